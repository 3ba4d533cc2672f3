package chat

import "testing"

// A typical agent request: a system prompt, a few turns, two tools.
var benchBody = []byte(`{"model":"openai/gpt-4.1","messages":[` +
	`{"role":"system","content":"You are a helpful assistant that answers briefly and precisely in Traditional Chinese."},` +
	`{"role":"user","content":"請問台北今天的天氣如何？我下午要去信義區開會，需要帶傘嗎？"},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Taipei\",\"district\":\"Xinyi\"}"}}]},` +
	`{"role":"tool","tool_call_id":"call_abc","content":"{\"temp\":28,\"rain_probability\":0.7,\"wind\":\"NE 3\"}"},` +
	`{"role":"user","content":[{"type":"text","text":"And tomorrow morning?"},{"type":"image_url","image_url":{"url":"https://example.com/radar.png"}}]}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"district":{"type":"string"}},"required":["city"]}}},` +
	`{"type":"function","function":{"name":"get_forecast","description":"Forecast","parameters":{"type":"object","properties":{"city":{"type":"string"},"hours":{"type":"integer"}},"required":["city"]}}}],` +
	`"temperature":0.3,"max_tokens":512,"stream":true,"stream_options":{"include_usage":true},"user":"user-1234"}`)

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if _, err := Parse(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAndOpenAIBody(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		r, err := Parse(benchBody)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.OpenAIBody("gpt-4.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// The flat scan that every body gets before decoding.
func BenchmarkCheckBody(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if err := CheckBody(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

// The nesting scan that follows a body as it is read.
func BenchmarkDepthScanner(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		var d DepthScanner
		if err := d.Write(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}
