// Command fakeupstream is a zero-latency model provider for load tests and
// the quick start: it speaks OpenAI's, Anthropic's or Gemini's real wire
// format and answers every request with a scripted reply (embeddings
// requests with deterministic vectors).
//
// With -auto, an OpenAI-format fake answers a request that offers tools
// with a call of one of them, and a json_schema response format with JSON
// that fits the schema, so client libraries' tool and structured-output
// paths run against it. Some last messages ask for a failure instead:
// FailPrompt ("Fail while answering.") streams part of the answer, then an
// error event, and drops the connection; ErrorChunkPrompt ("End with an
// error chunk.") streams part of it, then OpenRouter's error chunk
// (finish_reason "error"); FlagPrompt ("Flag this input for moderation.")
// is answered with OpenRouter's moderation 403.
//
// With -forward URL it is instead a bare pass-through proxy (the standard
// library's httputil.ReverseProxy) to URL: the load test measures it to show
// what any Go HTTP hop costs on the machine, before a gateway does any work.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9090", "address to listen on")
	kind := flag.String("kind", "openai", "wire format: openai, anthropic or gemini")
	text := flag.String("text", "Hello from the fake upstream. RouteFree is relaying this reply.", "the reply text")
	chunks := flag.Int("chunks", 16, "stream: content chunks per reply")
	prompt := flag.Int("prompt-tokens", 10, "prompt tokens reported")
	completion := flag.Int("completion-tokens", 16, "completion tokens reported")
	delay := flag.Duration("delay", 0, "wait before answering")
	auto := flag.Bool("auto", false, "openai kind: answer tools with a tool call and a json_schema response format with fitting JSON; a last message "+
		fmt.Sprintf("%q fails midway with an error event, %q with an error chunk, %q gets a moderation 403", FailPrompt, ErrorChunkPrompt, FlagPrompt))
	rejectToolName := flag.Bool("reject-tool-name", false, "with -auto: answer 400 to a tool message carrying a name, as strict upstreams do")
	forward := flag.String("forward", "", "instead of answering, pass every request through to this base URL unchanged")
	flag.Parse()

	script := providertest.Script{
		Text: *text, Chunks: *chunks, Delay: *delay,
		Usage: providertest.Usage{Prompt: *prompt, Completion: *completion},
	}
	var h http.Handler = providertest.NewFake(*kind, script, false)
	if *auto {
		h = autoFake{kind: *kind, base: script, rejectToolName: *rejectToolName}
	}
	if *forward != "" {
		u, err := url.Parse(*forward)
		if err != nil {
			log.Fatal(err)
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.FlushInterval = -1 // relay stream chunks as they come
		rp.Transport = &http.Transport{MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: true}
		h = rp
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *forward != "" {
		fmt.Fprintf(os.Stderr, "pass-through proxy on http://%s to %s\n", ln.Addr(), *forward)
	} else {
		fmt.Fprintf(os.Stderr, "fake %s upstream on http://%s (base URL for the catalog: http://%s/v1)\n", *kind, ln.Addr(), ln.Addr())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
