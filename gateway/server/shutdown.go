package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/routefree/routefree/domain"
)

// ErrShuttingDown is the cause with which the process running the gateway
// cancels the requests still running when its shutdown grace is over (a
// context.WithCancelCause behind http.Server.BaseContext, cancelled before
// the connections are closed). A request cut so is recorded as such, not as
// a client that left, and its client is told while the connection stands.
var ErrShuttingDown = errors.New("the gateway is shutting down")

// reasonShutdown is the request.failed reason of a request the shutdown cut.
const reasonShutdown = "shutting_down"

// cutByShutdown tells whether ctx ended because the gateway shuts down.
func cutByShutdown(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrShuttingDown)
}

// cancelled is the error of a request whose context ended before its
// upstream answered: the shutdown's 503 (SDKs retry it, on another
// instance), or the client that left.
func cancelled(ctx context.Context) *APIError {
	if cutByShutdown(ctx) {
		return apiErr(http.StatusServiceUnavailable, reasonShutdown, "the gateway is shutting down; try again", nil)
	}
	return apiErr(499, "client_closed", "client closed the request", nil)
}

// cutOutcome is the outcome of a stream whose context ended mid-way.
func cutOutcome(ctx context.Context) string {
	if cutByShutdown(ctx) {
		return domain.OutcomeShutdown
	}
	return domain.OutcomeClientDisconnected
}
