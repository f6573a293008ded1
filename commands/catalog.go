package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/continuum-care/continuum/domain"
)

// SeedCatalog creates the given programs and groups unless they already
// exist, so it can run at every start: only the first one writes. Each
// creation's idempotency key is derived from the program or group ID.
func (s *Service) SeedCatalog(ctx context.Context, programs []domain.CreateProgram, groups []domain.CreateGroup) (created int, err error) {
	ignoreExisting := func(res Result, err error) error {
		if errors.Is(err, domain.ErrConflict) && domain.ErrorCode(err) == domain.CodeAlreadyExists {
			return nil
		}
		if err == nil && !res.Duplicate && len(res.Events) > 0 {
			created++
		}
		return err
	}
	for _, p := range programs {
		m := Meta{IdempotencyKey: "catalog:program:" + string(p.Program), CorrelationID: "catalog"}
		if err := ignoreExisting(s.Program(ctx, m, p)); err != nil {
			return created, fmt.Errorf("seeding program %s: %w", p.Program, err)
		}
	}
	for _, g := range groups {
		m := Meta{IdempotencyKey: "catalog:group:" + string(g.Group), CorrelationID: "catalog"}
		if err := ignoreExisting(s.Group(ctx, m, g)); err != nil {
			return created, fmt.Errorf("seeding group %s: %w", g.Group, err)
		}
	}
	return created, nil
}
