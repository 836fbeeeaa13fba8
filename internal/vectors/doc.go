// Package vectors makes and checks the protocol's test vectors: the files in
// testdata/ at the repository root that PROTOCOL.md describes (identities,
// framing, requests and responses, tickets, the agent record).
//
// Build makes each file from fixed inputs with the implementation's own
// encoders (tools/genvectors writes them: make vectors). Check reads a file
// and checks it against the implementation in both directions: each output it
// lists decodes, with the implementation's decoders, to the inputs it lists,
// and the inputs encode to the outputs. A field that no check reads is an
// error, so nothing in a file goes unchecked. The conformance test at the
// repository root runs both on every file.
//
// The vectors continue the session of noiseproto/testdata/vectors.txt (same
// agents, same ephemeral keys). Safe for concurrent use.
package vectors
