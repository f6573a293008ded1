package bench

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// historySeed fixes the generated history, so every run (and the peer
// benchmark, given the same seed) folds the same facts into the same digest.
const historySeed = 2026

// newEventID returns a random (version 4) UUID drawn from math/rand/v2's
// global source, a ChaCha8 stream per thread seeded by the operating system:
// as unpredictable as uuid.New without a system call per ID, which matters
// when filling ten million events.
func newEventID() uuid.UUID {
	var id uuid.UUID
	binary.LittleEndian.PutUint64(id[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(id[8:], rand.Uint64())
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// encodeEvents turns domain events into what the store appends, the way the
// command layer does: the domain codec's data, its metadata envelope with one
// correlation ID per append, and a fresh event ID each. It appends to dst
// and returns it.
func encodeEvents(dst []eventstore.EventData, events []domain.Event) ([]eventstore.EventData, error) {
	correlation := newEventID().String()
	for _, e := range events {
		eventType, data, err := domain.Encode(e)
		if err != nil {
			return dst, err
		}
		dst = append(dst, eventstore.EventData{
			ID:          newEventID(),
			Type:        eventType,
			ContentType: eventstore.ContentTypeJSON,
			Data:        data,
			Metadata:    domain.EncodeMetadata(domain.MetadataFor(e, correlation, "")),
		})
	}
	return dst, nil
}
