package projections

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// Below the logger's level a trace or debug message costs nothing (no
// attributes built, nothing written); at its level it is written with its
// fields, as watermill's own adapter writes it, With's fields included.
func TestLoggerDropsWhatItsLevelDoesNotLog(t *testing.T) {
	var buf bytes.Buffer
	info := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).With(watermill.LogFields{"router": "projections"})
	fields := watermill.LogFields{"message_uuid": "m-1", "handler": "usage"}
	if n := testing.AllocsPerRun(100, func() { info.Trace("Message acked", fields); info.Debug("Message acked", fields) }); n != 0 {
		t.Errorf("a trace and a debug message below the level allocate %v times", n)
	}
	info.Info("started", fields)
	if out := buf.String(); strings.Contains(out, "acked") || !strings.Contains(out, "msg=started") || !strings.Contains(out, "router=projections") || !strings.Contains(out, "handler=usage") {
		t.Errorf("at info level the log reads %q", out)
	}
	buf.Reset()
	trace := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: watermill.LevelTrace})))
	trace.Trace("Message acked", fields)
	trace.Debug("Handler done", fields)
	if out := buf.String(); !strings.Contains(out, "Message acked") || !strings.Contains(out, "Handler done") || !strings.Contains(out, "message_uuid=m-1") {
		t.Errorf("at trace level the log reads %q", out)
	}
}
