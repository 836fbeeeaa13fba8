package vectors

import "testing"

// FuzzCheck: Check reads any content for any vector without panicking, and
// passes nothing but the vectors' own bytes through parse. The files are
// read from disk, so their reader is fuzzed like any other.
func FuzzCheck(f *testing.F) {
	built, err := Build()
	if err != nil {
		f.Fatal(err)
	}
	// frame.txt is left out: its check is mostly noiseproto's decryption of
	// 128 KiB, which FuzzReadFrame covers, and it makes each run slow.
	var files []File
	for _, v := range built {
		if v.Name != "frame.txt" {
			f.Add(uint8(len(files)), v.Content)
			files = append(files, v)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		v := files[int(which)%len(files)]
		if Check(v.Name, content) == nil && string(content) != string(v.Content) && !sameFields(t, v, content) {
			t.Fatalf("%s: other content checks", v.Name)
		}
	})
}

// sameFields reports whether content has the fields of v, only spelt
// differently (comments, blank lines, upper-case hex): what Check alone
// cannot tell from the file, and the comparison of whole files does.
func sameFields(t *testing.T, v File, content []byte) bool {
	a, err1 := parse(v.Name, v.Content)
	b, err2 := parse(v.Name, content)
	if err1 != nil || err2 != nil || len(a.order) != len(b.order) {
		return false
	}
	for _, k := range a.order {
		if _, ok := b.value[k]; !ok {
			return false
		}
	}
	return true
}
