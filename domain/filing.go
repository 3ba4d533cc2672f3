package domain

// Filing events record what became of a document's MIG message at the
// platform, as Turnkey reports it: uploaded, or rejected with a reason. A
// document is one message of one invoice, void or allowance.
const (
	TypeDocumentUploaded = "filing.uploaded"
	TypeDocumentRejected = "filing.rejected"
)

// DocumentUploaded records that Turnkey sent a document to the platform.
type DocumentUploaded struct {
	Message string `json:"message"` // F0401, F0501, G0401
	Number  string `json:"number"`  // invoice or allowance number
	Period  string `json:"period"`  // the invoice's period (numbers recycle)
	File    string `json:"file"`    // the file Turnkey processed
	Actor   Actor  `json:"actor"`   // who read the result back
}

// DocumentRejected records that Turnkey or the platform refused a document.
type DocumentRejected struct {
	Message string `json:"message"`
	Number  string `json:"number"`
	Period  string `json:"period"`
	File    string `json:"file"`
	Reason  string `json:"reason"`
	Actor   Actor  `json:"actor"` // who read the result back
}

func (DocumentUploaded) EventType() string  { return TypeDocumentUploaded }
func (DocumentRejected) EventType() string  { return TypeDocumentRejected }
func (DocumentUploaded) SchemaVersion() int { return 1 }
func (DocumentRejected) SchemaVersion() int { return 1 }

func init() {
	factories[TypeDocumentUploaded] = func() Event { return &DocumentUploaded{} }
	factories[TypeDocumentRejected] = func() Event { return &DocumentRejected{} }
}

// FilingStream holds the filing events of one document, keyed by message,
// period and number.
func FilingStream(key string) string { return "filing-" + key }
