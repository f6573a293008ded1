package bench

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// historySeed fixes the generated history, so every run (and the peer
// benchmark, given the same seed) folds the same facts into the same digest.
const historySeed = 2026

// idSource hands out random (version 4) event IDs from a ChaCha8 stream
// seeded by the operating system: as unpredictable as uuid.New, without a
// system call per ID, which matters when filling ten million events. One
// source per goroutine.
type idSource struct{ rng *rand.ChaCha8 }

func newIDSource() *idSource {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic(fmt.Sprintf("bench: no system randomness: %v", err)) // crypto/rand never fails on supported systems
	}
	return &idSource{rng: rand.NewChaCha8(seed)}
}

func (s *idSource) next() uuid.UUID {
	var id uuid.UUID
	binary.LittleEndian.PutUint64(id[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(id[8:], s.rng.Uint64())
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// encoder turns domain events into what the store appends, the way the
// command layer does: the domain codec's data, its metadata envelope with a
// correlation ID per append, and a fresh event ID.
type encoder struct{ ids *idSource }

func newEncoder() *encoder { return &encoder{ids: newIDSource()} }

// encode appends the encoded events to dst and returns it.
func (c *encoder) encode(dst []eventstore.EventData, events []domain.Event) ([]eventstore.EventData, error) {
	correlation := c.ids.next().String()
	for _, e := range events {
		eventType, data, err := domain.Encode(e)
		if err != nil {
			return dst, err
		}
		dst = append(dst, eventstore.EventData{
			ID:          c.ids.next(),
			Type:        eventType,
			ContentType: eventstore.ContentTypeJSON,
			Data:        data,
			Metadata:    domain.EncodeMetadata(domain.MetadataFor(e, correlation, "")),
		})
	}
	return dst, nil
}
