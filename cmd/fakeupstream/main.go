// Command fakeupstream is a zero-latency model provider for load tests and
// the quick start: it speaks OpenAI's, Anthropic's or Gemini's real wire
// format and answers every request with a scripted reply.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
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
	flag.Parse()

	f := providertest.NewFake(*kind, providertest.Script{
		Text: *text, Chunks: *chunks, Delay: *delay,
		Usage: providertest.Usage{Prompt: *prompt, Completion: *completion},
	}, false)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "fake %s upstream on http://%s (base URL for the catalog: http://%s/v1)\n", *kind, ln.Addr(), ln.Addr())
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
