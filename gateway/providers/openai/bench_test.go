package openai

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/routefree/routefree/gateway/chat"
	"github.com/routefree/routefree/gateway/providers/internal/core"
	pt "github.com/routefree/routefree/gateway/providers/providertest"
)

// sixteenChunks is an OpenAI stream as the wire carries it: role chunk,
// 16 content chunks, finish chunk, usage chunk, [DONE].
func sixteenChunks() []byte {
	var b bytes.Buffer
	head := `{"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1750000000,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249",`
	fmt.Fprintf(&b, "data: %s\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n", head)
	for i := range 16 {
		fmt.Fprintf(&b, "data: %s\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token%02d\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"x1\"}\n\n", head, i)
	}
	fmt.Fprintf(&b, "data: %s\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n", head)
	fmt.Fprintf(&b, "data: %s\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":16,\"total_tokens\":35,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n", head)
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// BenchmarkOpenAIStreamTranslate is the adapter's own CPU per streamed
// request of 16 chunks, without the network.
func BenchmarkOpenAIStreamTranslate(b *testing.B) {
	body := sixteenChunks()
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		s := newStream("openai", "openai/gpt-4.1", io.NopCloser(rd))
		s.SetIdentity("gen-0123456789", 1700000000)
		n := 0
		for {
			_, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if u, ok := s.Usage(); !ok || u.TotalTokens != 35 || n != 18 {
			b.Fatalf("usage %v %v, %d chunks", u, ok, n)
		}
		s.Close()
	}
}

// BenchmarkOpenAIStreamRelay is a whole streamed call against the loopback
// fake: request encoding, HTTP, SSE parsing and rewriting (the fake's own
// CPU is included, so this is an upper bound).
func BenchmarkOpenAIStreamRelay(b *testing.B) {
	srv := pt.StartFake(pt.NewFake(pt.KindOpenAI, pt.Script{Text: "0123456789abcdef0123456789abcdef0123456789abcdef", Chunks: 16}, false))
	defer srv.Close()
	req, err := chat.Parse([]byte(`{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"hi"}],"stream":true}`))
	if err != nil {
		b.Fatal(err)
	}
	up := core.Upstream{Provider: "openai", Kind: "openai", BaseURL: srv.BaseURL, Model: "gpt-4.1", APIKey: "k"}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Adapter{}.Send(context.Background(), hc, up, req)
		if err != nil {
			b.Fatal(err)
		}
		res.Stream.SetIdentity("gen-1", 1700000000)
		for {
			if _, err := res.Stream.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
		res.Stream.Close()
	}
}

// unaryAnswer is a non-streamed OpenAI answer as the wire carries it.
var unaryAnswer = []byte(`{
  "id": "chatcmpl-Bx1",
  "object": "chat.completion",
  "created": 1750000000,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello from the fake upstream. RouteFree is relaying this reply, and it says so in a sentence or two of ordinary length.",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 19,
    "completion_tokens": 28,
    "total_tokens": 47,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_b3f1157249"
}`)

// BenchmarkUnaryAnswer is the adapter's and the server's CPU per unary
// answer, read from the upstream's bytes and written as the gateway
// answers: kept as bytes (relay) against decoded and encoded again.
func BenchmarkUnaryAnswer(b *testing.B) {
	u := chat.NewUsage(19, 28, 0, 0)
	b.Run("relay", func(b *testing.B) {
		b.ReportAllocs()
		var out []byte
		for b.Loop() {
			rel := relayOf(unaryAnswer, false)
			out = rel.AppendJSON(out[:0], "gen-1", "openai/gpt-4.1", "openai", 1, &u)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := DecodeResponse(unaryAnswer)
			if err != nil {
				b.Fatal(err)
			}
			r.Response.ID, r.Response.Model, r.Response.Usage = "gen-1", "openai/gpt-4.1", &u
			if _, err := fastjson.Marshal(r.Response); err != nil {
				b.Fatal(err)
			}
		}
	})
}
