package domain

// TypeRankingsListed is the type of RankingsListed.
const TypeRankingsListed = "account.rankings_listed"

// RankingsListed is an account owner's choice whether the public rankings
// may show its apps (the X-Title of its requests). An account is unlisted
// until its owner says otherwise; each event replaces the previous choice,
// and the rankings honour it for all of the account's usage, past and
// future.
type RankingsListed struct {
	AccountID string `json:"account_id"`
	Listed    bool   `json:"listed"`
	Actor     Actor  `json:"actor"`
}

func (RankingsListed) EventType() string  { return TypeRankingsListed }
func (RankingsListed) SchemaVersion() int { return 1 }
func (e *RankingsListed) ActedBy() *Actor { return &e.Actor }

func init() { factories[TypeRankingsListed] = func() Event { return &RankingsListed{} } }
