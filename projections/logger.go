package projections

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
)

// NewLogger is watermill's slog adapter that drops a trace or debug
// message below the logger's level before turning its fields into
// attributes: watermill's router logs every message it handles at trace
// level, and the adapter built those attributes first, for every batch of
// events the projections took.
func NewLogger(l *slog.Logger) watermill.LoggerAdapter {
	if l == nil {
		l = slog.Default()
	}
	return leveled{watermill.NewSlogLogger(l), l}
}

type leveled struct {
	watermill.LoggerAdapter
	l *slog.Logger
}

func (q leveled) Trace(msg string, fields watermill.LogFields) {
	if q.l.Enabled(context.Background(), watermill.LevelTrace) {
		q.LoggerAdapter.Trace(msg, fields)
	}
}

func (q leveled) Debug(msg string, fields watermill.LogFields) {
	if q.l.Enabled(context.Background(), slog.LevelDebug) {
		q.LoggerAdapter.Debug(msg, fields)
	}
}

func (q leveled) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return leveled{q.LoggerAdapter.With(fields), q.l}
}
