package auction

// OpenRefusals is how many refusals wait in the group not yet being
// written (refusals.go), for the test that groups them.
func (s *Service) OpenRefusals() int {
	s.refusals.mu.Lock()
	defer s.refusals.mu.Unlock()
	if s.refusals.open == nil {
		return 0
	}
	return len(s.refusals.open.rows)
}
