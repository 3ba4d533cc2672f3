package projections

// strTable keeps each of many repeated strings once (key names, model and
// provider names, outcomes) and names it by a 32-bit index: a record that
// holds the index takes 4 bytes where a string header takes 16.
type strTable struct {
	strs []string
	idx  map[string]uint32
}

// index returns s's index, adding s when new.
func (t *strTable) index(s string) uint32 {
	if i, ok := t.idx[s]; ok {
		return i
	}
	if t.idx == nil {
		t.idx = map[string]uint32{}
	}
	i := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.idx[s] = i
	return i
}

// at returns the string of index i.
func (t *strTable) at(i uint32) string { return t.strs[i] }
