// Package tokens counts tokens offline when an upstream reports no usage (a
// stream broken mid-way, an old OpenAI-compatible host). It uses tiktoken's
// o200k_base vocabulary, shipped inside the tiktoken-go-loader module, so
// nothing is downloaded at run time. Counts from it are marked estimated.
package tokens

import (
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

var (
	once sync.Once
	enc  *tiktoken.Tiktoken
	err  error
)

func encoder() (*tiktoken.Tiktoken, error) {
	once.Do(func() {
		tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
		enc, err = tiktoken.GetEncoding("o200k_base")
	})
	return enc, err
}

// Count returns the number of tokens of text. If the vocabulary cannot load
// (it is compiled in, so only a broken build fails), it falls back to one
// token per four bytes, rounded up.
func Count(text string) int {
	if text == "" {
		return 0
	}
	e, err := encoder()
	if err != nil {
		return (len(text) + 3) / 4
	}
	return len(e.EncodeOrdinary(text))
}

// Warm loads the vocabulary ahead of the first count (it takes a moment).
func Warm() { _, _ = encoder() }
