// Package api is the wire format of oemact's emulated activation service: the JSON requests and
// answers of each /v1 endpoint, the error codes, and the size limits both sides agree on.
//
// It holds no logic; the server (oemact/service) and the Go client (oemact/service/client) share it.
// The formats are this project's own, not Microsoft's activation or KMS protocols.
package api

import (
	"fmt"
	"time"
)

// Paths of the endpoints. Every path is versioned; a breaking change gets /v2.
const (
	PathActivate   = "/v1/activate"    // online activation: retail, OEM:COA, MAK, OEM:DM (OA 3.0)
	PathKMS        = "/v1/kms"         // KMS host: one client request
	PathPhone      = "/v1/phone"       // telephone-style activation: installation ID in, confirmation ID out
	PathProxyBatch = "/v1/mak/batches" // MAK proxy activation (VAMT's role): many installation IDs at once
	PathStats      = "/v1/stats"       // aggregates only: no keys, no addresses
	PathHealth     = "/v1/health"
	PathAdminKeys  = "/v1/admin/keys"   // POST adds a TEST key; PATCH /v1/admin/keys/{key_id} changes one
	PathIndex      = "/v1"              // the routes, and where the OpenAPI document is
	PathOpenAPI    = "/v1/openapi.json" // the OpenAPI 3 description of every route
)

// Limits. A request over MaxBody (MaxBatchBody for proxy batches) is answered 413.
const (
	MaxBody         = 16 << 10
	MaxBatchBody    = 1 << 20
	MaxBatchItems   = 1000
	MaxComponents   = 64
	MaxBatchIDLen   = 64
	MaxItemRefLen   = 64
	ContentTypeJSON = "application/json"
)

// The range of times the service takes from clients (KMS request_time) and answers with: the
// years 2000 to 9999 in UTC. RFC 3339, and so JSON, carries no year beyond 9999; a request time is
// accepted only when the validity it may grant ends within the range too.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Results of an activation decision that the service answers with 200.
const (
	ResultActivated   = "activated"   // first activation: a new binding (MAK: one activation of the pool used)
	ResultReactivated = "reactivated" // hardware in tolerance of an existing binding: nothing new used
	ResultMoved       = "moved"       // the key's one binding moved to new hardware (telephone, or a configured online move)
	ResultBlocked     = "blocked"     // the key is blocked: the client enters non-genuine grace
	ResultRefused     = "refused"     // only inside proxy batches, per item; a single request is refused with an Error
)

// Error codes. Each is answered with the HTTP status given by Status.
const (
	// Malformed or hostile requests (400, 404, 405, 413, 415).
	CodeBadJSON            = "bad-json"
	CodeUnknownField       = "unknown-field"
	CodeTrailingData       = "trailing-data"
	CodeInvalidField       = "invalid-field"
	CodeMissingField       = "missing-field"
	CodeInvalidKey         = "invalid-key"
	CodeInvalidHardware    = "invalid-hardware"
	CodeInvalidCMID        = "invalid-cmid"
	CodeInvalidIID         = "invalid-installation-id"
	CodeInvalidBatchID     = "invalid-batch-id"
	CodeInvalidKeyID       = "invalid-key-id"
	CodeClientTime         = "client-time-not-trusted"
	CodeClientIP           = "client-ip-not-trusted"
	CodeBodyTooLarge       = "body-too-large"
	CodeUnsupportedMedia   = "unsupported-media-type"
	CodeMethodNotAllowed   = "method-not-allowed"
	CodeNotFound           = "not-found"
	CodeAdminTokenRequired = "admin-token-required" // 401
	CodeTokenRequired      = "token-required"       // 401: the server takes requests with its token only
	CodeAdminDisabled      = "admin-disabled"       // 403: the server has no admin token configured

	// Refusals decided by the model's rules (403: never for this key or place; 409: state).
	CodeKeyUnknown       = "key-unknown"
	CodeWrongChannel     = "wrong-channel"
	CodeSLPOffline       = "slp-offline-only"
	CodeEditionMismatch  = "edition-mismatch"
	CodeNotVolumeEdition = "edition-not-volume"
	// CodeMarketRestricted refuses an edition with target markets (Windows 7 Starter) a request
	// from outside them, or from an address the service's table places in no country: one code
	// whichever path (online, telephone, proxy batch) the request took.
	CodeMarketRestricted  = "market-restricted"
	CodeKeyInUse          = "key-in-use"
	CodeKeyBoundOther     = "key-bound-to-other-hardware"
	CodeMAKExhausted      = "mak-exhausted"
	CodeBatchIDReused     = "batch-id-reused"
	CodeLimitBelowCount   = "mak-limit-below-count"
	CodeKeyExists         = "key-exists"
	CodeKeyBlocked        = "key-blocked" // the code of a ResultBlocked answer
	CodeKMSBelowThreshold = "kms-count-below-threshold"
	CodeKMSMarkerRequired = "kms-marker-required"
	CodeKMSActivated      = "kms-activated"
	CodeUnavailable       = "unavailable" // 503: shutting down or overloaded; retry
	CodeInternal          = "internal"    // 500
	CodeTimeout           = "timeout"     // 503: the decision was not taken in time; nothing was written
	CodeCatalogInvalid    = "catalog-invalid"
)

// Status is the HTTP status the server answers with an error code.
func Status(code string) int {
	switch code {
	case CodeBodyTooLarge:
		return 413
	case CodeUnsupportedMedia:
		return 415
	case CodeMethodNotAllowed:
		return 405
	case CodeNotFound:
		return 404
	case CodeAdminTokenRequired, CodeTokenRequired:
		return 401
	case CodeAdminDisabled, CodeKeyUnknown, CodeWrongChannel, CodeSLPOffline, CodeEditionMismatch,
		CodeNotVolumeEdition, CodeMarketRestricted:
		return 403
	case CodeKeyInUse, CodeKeyBoundOther, CodeMAKExhausted, CodeBatchIDReused, CodeLimitBelowCount, CodeKeyExists:
		return 409
	case CodeUnavailable, CodeTimeout:
		return 503
	case CodeInternal:
		return 500
	}
	return 400
}

// Error is the body of every answer that is not 2xx: {"error": {"code": ..., "message": ...}}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf makes an Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorBody wraps an Error as it travels.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// Component is one hardware component as the service sees it: its class and digest only (the raw
// value stays on the machine; a "value" field is rejected as unknown).
type Component struct {
	Class  string `json:"class"`
	Digest string `json:"digest"`
}

// Hardware is the hardware identity sent with an online activation (hwid.Inventory, redacted).
type Hardware struct {
	Components []Component `json:"components"`
	Dockable   bool        `json:"dockable"`
}

// ActivateRequest asks for online activation of a retail, OEM:COA, MAK or OEM:DM key. It carries
// what DESIGN.md lists: the software version and language, the product key, the hardware
// information, and the address (the request's own, or ClientIP).
type ActivateRequest struct {
	Key      string   `json:"key"`
	Hardware Hardware `json:"hardware"`
	// Edition, when set, must be the key's edition (the installed edition must match the key).
	Edition string `json:"edition,omitempty"`
	// SoftwareVersion is the Windows version ("6.1.7600"), Language the installation's language
	// ("en-US", a BCP 47 tag). They are checked for form and not kept.
	SoftwareVersion string `json:"software_version,omitempty"`
	Language        string `json:"language,omitempty"`
	// ClientIP is the client's address, for a service that trusts it (ClientIPNote).
	ClientIP string `json:"client_ip,omitempty"`
}

// ClientIPNote says when client_ip counts: the geography of editions such as Windows 7 Starter is
// judged by the request's address, which is the connection's unless the server was started with
// --trust-client-ip (tests and the harness, which play machines in other places); other servers
// refuse a request carrying it (client-ip-not-trusted). The address is used for the decision
// only, never kept or logged.
const ClientIPNote = "client_ip is honoured only by a server started with --trust-client-ip (tests); leave it out"

// Votes summarises the hardware comparison behind a reactivation or a refusal.
type Votes struct {
	Policy   string `json:"policy"`
	Matching int    `json:"matching"`
	Required int    `json:"required"`
	Total    int    `json:"total"`
}

// ActivateResponse is the answer to an online or telephone activation.
type ActivateResponse struct {
	Result  string `json:"result"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	// KeyID names the key in statistics; it is a keyed hash, not the key.
	KeyID   string `json:"key_id"`
	Channel string `json:"channel"`
	Edition string `json:"edition"`
	// ConfirmationID is the telephone-format confirmation of the installation ID that the key and
	// hardware of this request make (see oemact/service/phone); empty for blocked keys.
	ConfirmationID string `json:"confirmation_id,omitempty"`
	// MAKRemaining is set for MAK keys: activations left in the pool after this decision.
	MAKRemaining *int   `json:"mak_remaining,omitempty"`
	Votes        *Votes `json:"votes,omitempty"`
}

// KMSRequest is one KMS client request.
type KMSRequest struct {
	// CMID is the client machine ID, a UUID.
	CMID    string `json:"cmid"`
	Edition string `json:"edition"`
	// MarkerPresent says whether the client's BIOS carries a Windows marker (SLIC); Windows 7
	// volume editions need it to use KMS.
	MarkerPresent bool `json:"marker_present"`
	// RequestTime is honoured only by a server started with --trust-client-time (tests and the
	// harness simulate days passing with it); other servers refuse a request that carries it.
	RequestTime *time.Time `json:"request_time,omitempty"`
}

// KMSResponse is the KMS host's answer: the current count and, when activated, the validity.
type KMSResponse struct {
	Activated bool   `json:"activated"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	// Count is the distinct client machine IDs seen in the window, this one included.
	Count     int       `json:"count"`
	Threshold int       `json:"threshold"`
	Time      time.Time `json:"time"`
	// ValidUntil is Time plus the validity (180 days) when activated.
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	// RenewalMinutes is how often an activated client renews (7 days); RetryMinutes how often an
	// unactivated client tries again (2 hours).
	RenewalMinutes  int `json:"renewal_interval_minutes"`
	RetryMinutes    int `json:"retry_interval_minutes"`
	ValidityMinutes int `json:"validity_minutes"`
}

// PhoneRequest is telephone-style activation: the installation ID the client shows.
type PhoneRequest struct {
	InstallationID string `json:"installation_id"`
	// ClientIP: see ActivateRequest.
	ClientIP string `json:"client_ip,omitempty"`
}

// BatchItem is one machine in a MAK proxy batch.
type BatchItem struct {
	// Ref is the proxy's own name for the machine, echoed in the answer (optional, [A-Za-z0-9._:-]).
	Ref            string `json:"ref,omitempty"`
	InstallationID string `json:"installation_id"`
}

// BatchRequest is a MAK proxy activation (VAMT's role): one confirmation ID per installation ID.
type BatchRequest struct {
	// BatchID makes the batch idempotent: a replay with the same content gets the stored answer
	// and writes nothing; the same ID with other content is refused (batch-id-reused).
	BatchID string      `json:"batch_id"`
	Items   []BatchItem `json:"items"`
	// ClientIP is the proxy's address: see ActivateRequest.
	ClientIP string `json:"client_ip,omitempty"`
}

// BatchItemResult is the per-item answer.
type BatchItemResult struct {
	Ref            string `json:"ref,omitempty"`
	Result         string `json:"result"`
	Code           string `json:"code,omitempty"`
	Message        string `json:"message"`
	KeyID          string `json:"key_id,omitempty"`
	ConfirmationID string `json:"confirmation_id,omitempty"`
	MAKRemaining   *int   `json:"mak_remaining,omitempty"`
}

// BatchResponse answers a batch; Replayed is true when it is the stored answer of an earlier run.
type BatchResponse struct {
	BatchID  string            `json:"batch_id"`
	Replayed bool              `json:"replayed"`
	Items    []BatchItemResult `json:"items"`
}

// OutcomeCount is one row of the aggregate counts.
type OutcomeCount struct {
	Kind    string `json:"kind"` // "online", "phone", "batch", "kms"
	Channel string `json:"channel"`
	Edition string `json:"edition"`
	Result  string `json:"result"`
	Count   int64  `json:"count"`
}

// MAKPool is a MAK key's pool, by key ID.
type MAKPool struct {
	KeyID     string `json:"key_id"`
	Edition   string `json:"edition"`
	Limit     int    `json:"limit"`
	Used      int    `json:"used"`
	Remaining int    `json:"remaining"`
}

// KMSStats is the KMS host's count.
type KMSStats struct {
	Count      int       `json:"count"`
	Kept       int       `json:"kept"`
	WindowDays int       `json:"window_days"`
	Time       time.Time `json:"time"`
}

// RefusalCount counts refused or rejected requests by code since the server started (they write
// nothing, so these counts are not durable).
type RefusalCount struct {
	Code  string `json:"code"`
	Count int64  `json:"count"`
}

// Stats is the aggregate view: no keys, no addresses, no hardware.
type Stats struct {
	Outcomes []OutcomeCount `json:"outcomes"`
	MAK      []MAKPool      `json:"mak"`
	KMS      KMSStats       `json:"kms"`
	Refused  []RefusalCount `json:"refused_since_start"`
}

// Health is the answer of /v1/health.
type Health struct {
	Status        string `json:"status"`
	SchemaVersion int    `json:"schema_version"`
	Keys          int    `json:"keys"`
}

// AddKeyRequest adds a TEST key to the service's catalog (admin). The key must be
// productkey.Derive(label), as in the catalog file; the label is checked and not stored.
type AddKeyRequest struct {
	Label    string `json:"label"`
	Key      string `json:"key"`
	Channel  string `json:"channel"`
	Edition  string `json:"edition"`
	OEMID    string `json:"oem_id,omitempty"`
	MAKLimit int    `json:"mak_limit,omitempty"`
	Blocked  bool   `json:"blocked,omitempty"`
}

// UpdateKeyRequest changes a key's MAK limit or blocked flag (admin). Absent fields stay.
type UpdateKeyRequest struct {
	MAKLimit *int  `json:"mak_limit,omitempty"`
	Blocked  *bool `json:"blocked,omitempty"`
}

// KeyInfo describes a catalog key by its ID (admin answers).
type KeyInfo struct {
	KeyID    string `json:"key_id"`
	Channel  string `json:"channel"`
	Edition  string `json:"edition"`
	OEMID    string `json:"oem_id,omitempty"`
	MAKLimit int    `json:"mak_limit,omitempty"`
	MAKUsed  int    `json:"mak_used,omitempty"`
	Blocked  bool   `json:"blocked"`
}

// Route is one route of the service, as GET /v1 lists it.
type Route struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary"`
	Admin   bool   `json:"admin,omitempty"` // needs the admin token
}

// Index is the answer of GET /v1.
type Index struct {
	Service string  `json:"service"`
	OpenAPI string  `json:"openapi"` // the path of the OpenAPI document
	Routes  []Route `json:"routes"`
}
