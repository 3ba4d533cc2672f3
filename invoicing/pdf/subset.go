package pdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// gofpdf parses the whole TrueType file for every document and builds maps
// over its entire character map (≈14,000 entries here): two thirds of the
// time of an invoice. Handing it a per-document subset whose cmap lists only
// the characters the document draws makes that cost vanish. The subset
// keeps every glyph id (unused glyphs just get no outline), so gofpdf's own
// cut of the subset is byte-for-byte the cut it would make of the full font.

// ttf is the parsed skeleton of the full font.
type ttf struct {
	data      []byte
	tables    map[string][]byte // raw table data by tag
	loca      []uint32          // numGlyphs+1 glyph offsets into glyf
	numGlyphs int
}

// tablesForGofpdf are the tables gofpdf reads; the rest (GSUB, vmtx, …) only
// cost copying.
var tablesForGofpdf = []string{"OS/2", "cmap", "cvt ", "fpgm", "gasp", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post", "prep"}

func parseTTF(data []byte) (*ttf, error) {
	bad := errors.New("pdf: font: malformed TrueType file")
	if len(data) < 12 {
		return nil, bad
	}
	t := &ttf{data: data, tables: map[string][]byte{}}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if len(data) < 12+16*n {
		return nil, bad
	}
	for i := 0; i < n; i++ {
		rec := data[12+16*i:]
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(length) > uint64(len(data)) {
			return nil, bad
		}
		t.tables[string(rec[:4])] = data[off : off+length]
	}
	head, maxp, loca := t.tables["head"], t.tables["maxp"], t.tables["loca"]
	if len(head) < 54 || len(maxp) < 6 || len(t.tables["hhea"]) < 36 || len(t.tables["post"]) < 32 ||
		t.tables["glyf"] == nil || t.tables["cmap"] == nil || t.tables["hmtx"] == nil {
		return nil, fmt.Errorf("pdf: font: not a TrueType (glyf) font")
	}
	t.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	t.loca = make([]uint32, t.numGlyphs+1)
	for i := range t.loca {
		switch {
		case long && len(loca) >= 4*(i+1):
			t.loca[i] = binary.BigEndian.Uint32(loca[4*i:])
		case !long && len(loca) >= 2*(i+1):
			t.loca[i] = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		default:
			return nil, bad
		}
	}
	return t, nil
}

func (t *ttf) glyph(gid int) []byte {
	glyf := t.tables["glyf"]
	a, b := t.loca[gid], t.loca[gid+1]
	if a >= b || int(b) > len(glyf) {
		return nil
	}
	return glyf[a:b]
}

// components lists the glyphs a composite glyph is built from, with the
// byte offset of each glyph index inside g.
func components(g []byte) (gids, offsets []int) {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil, nil
	}
	for p := 10; p+4 <= len(g); {
		flags := binary.BigEndian.Uint16(g[p:])
		gids = append(gids, int(binary.BigEndian.Uint16(g[p+2:])))
		offsets = append(offsets, p+2)
		p += 4
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x0008 != 0: // WE_HAVE_A_SCALE
			p += 2
		case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			p += 4
		case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
			p += 8
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			break
		}
	}
	return gids, offsets
}

// metrics is the (advance width, left side bearing) pair of glyph gid.
func (t *ttf) metrics(gid int) []byte {
	hmtx, hhea := t.tables["hmtx"], t.tables["hhea"]
	n := int(binary.BigEndian.Uint16(hhea[34:]))
	out := make([]byte, 4)
	switch {
	case gid < n && len(hmtx) >= 4*gid+4:
		copy(out, hmtx[4*gid:])
	case n > 0 && len(hmtx) >= 4*n+2*(gid-n)+2:
		copy(out[:2], hmtx[4*(n-1):])
		copy(out[2:], hmtx[4*n+2*(gid-n):])
	}
	return out
}

// subset builds a TrueType file mapping only runes (each with its glyph id
// in gids). Kept glyphs are renumbered in their original order, so gofpdf's
// own cut of the subset is byte-for-byte the cut it makes of the full font.
func (t *ttf) subset(runes []rune, gids func(rune) uint16) []byte {
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	keep := map[int]bool{}
	stack := []int{0} // .notdef always stays
	for _, r := range runes {
		stack = append(stack, int(gids(r)))
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if keep[g] || g >= t.numGlyphs {
			continue
		}
		keep[g] = true
		comps, _ := components(t.glyph(g))
		stack = append(stack, comps...)
	}
	old := make([]int, 0, len(keep))
	for g := range keep {
		old = append(old, g)
	}
	sort.Ints(old)
	renum := make(map[int]uint16, len(old))
	for i, g := range old {
		renum[g] = uint16(i)
	}

	be := binary.BigEndian
	var glyf []byte
	loca := make([]byte, 4*(len(old)+1))
	hmtx := make([]byte, 0, 4*len(old))
	for i, g := range old {
		be.PutUint32(loca[4*i:], uint32(len(glyf)))
		start := len(glyf)
		glyf = append(glyf, t.glyph(g)...)
		if comps, offs := components(t.glyph(g)); comps != nil {
			for j, c := range comps {
				be.PutUint16(glyf[start+offs[j]:], renum[c])
			}
		}
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		hmtx = append(hmtx, t.metrics(g)...)
	}
	be.PutUint32(loca[4*len(old):], uint32(len(glyf)))

	head := append([]byte(nil), t.tables["head"]...)
	be.PutUint16(head[50:], 1) // long loca offsets
	hhea := append([]byte(nil), t.tables["hhea"]...)
	be.PutUint16(hhea[34:], uint16(len(old)))
	maxp := append([]byte(nil), t.tables["maxp"]...)
	be.PutUint16(maxp[4:], uint16(len(old)))
	// post format 3: no glyph names (format 2 names are indexed by glyph id).
	post := append([]byte(nil), t.tables["post"][:32]...)
	be.PutUint32(post, 0x00030000)

	newGID := func(r rune) uint16 { return renum[int(gids(r))] }
	out := map[string][]byte{"glyf": glyf, "loca": loca, "head": head, "hhea": hhea, "maxp": maxp,
		"hmtx": hmtx, "post": post, "cmap": cmap4(runes, newGID)}
	for _, tag := range tablesForGofpdf {
		if _, done := out[tag]; !done && t.tables[tag] != nil {
			out[tag] = t.tables[tag]
		}
	}
	return assemble(out)
}

// cmap4 is a cmap with one (3,1) format-4 subtable for runes (sorted, BMP),
// merging runs of consecutive runes with consecutive glyph ids.
func cmap4(runes []rune, gids func(rune) uint16) []byte {
	type seg struct{ start, end, delta uint16 }
	var segs []seg
	for _, r := range runes {
		g := gids(r)
		if n := len(segs); n > 0 && uint16(r) == segs[n-1].end+1 && g == uint16(r)+segs[n-1].delta {
			segs[n-1].end++
			continue
		}
		segs = append(segs, seg{uint16(r), uint16(r), g - uint16(r)})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1})
	n := len(segs)
	sub := make([]byte, 16+8*n)
	be := binary.BigEndian
	be.PutUint16(sub[0:], 4)
	be.PutUint16(sub[2:], uint16(len(sub)))
	be.PutUint16(sub[6:], uint16(2*n))
	sr := 1
	for sr*2 <= n {
		sr *= 2
	}
	be.PutUint16(sub[8:], uint16(2*sr))
	be.PutUint16(sub[10:], uint16(bitsLen(sr)-1))
	be.PutUint16(sub[12:], uint16(2*n-2*sr))
	for i, s := range segs {
		be.PutUint16(sub[14+2*i:], s.end)
		be.PutUint16(sub[16+2*n+2*i:], s.start)
		be.PutUint16(sub[16+4*n+2*i:], s.delta)
		// idRangeOffset stays 0: glyph = rune + delta
	}
	hdr := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}
	return append(hdr, sub...)
}

func bitsLen(n int) int {
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}

// assemble writes an sfnt file with the tables in tag order.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	sr := 1
	for sr*2 <= n {
		sr *= 2
	}
	size := 12 + 16*n
	for _, tag := range tags {
		size += (len(tables[tag]) + 3) &^ 3
	}
	out := make([]byte, 12+16*n, size)
	be := binary.BigEndian
	be.PutUint32(out[0:], 0x00010000)
	be.PutUint16(out[4:], uint16(n))
	be.PutUint16(out[6:], uint16(16*sr))
	be.PutUint16(out[8:], uint16(bitsLen(sr)-1))
	be.PutUint16(out[10:], uint16(16*n-16*sr))
	for i, tag := range tags {
		data := tables[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		be.PutUint32(rec[4:], checksum(data))
		be.PutUint32(rec[8:], uint32(len(out)))
		be.PutUint32(rec[12:], uint32(len(data)))
		out = append(out, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
