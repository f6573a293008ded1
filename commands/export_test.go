package commands

// EventIDForTest exposes the event ID derivation to the package's tests.
var EventIDForTest = eventID

// MemoryForTest counts what the service holds in memory: event IDs in the
// window, bytes of the cached streams' indexes of older IDs, and cached
// streams.
func (s *Service) MemoryForTest() (windowIDs, indexBytes, streams int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.window.index), s.indexBytes, s.lru.Len()
}
