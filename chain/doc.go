// Package chain owns the agent's home store (Badger) and the source chain in
// it: an append-only sequence of signed actions, their entries,
// and the indexes (by hash, by entry type, by target) that make opening and
// lookups independent of the chain's length. It also offers small side stores
// in the same database for data that is kept in the home but is not on the
// chain (inbox, audit log, address book).
//
// Guarantees: an append writes the entry, the action, its indexes and the new
// head in one synced Badger transaction; appends are serialized, so no two
// actions share a seq. Verify re-derives every hash and signature and names
// the first bad action; GetAuthentic checks one action and its entry the
// same way (the signature once per open Chain), for what must not trust the
// store (the capability check). Only one process writes a home at a time;
// Open waits for the home (bounded by Options.LockTimeout) instead of
// failing, and a reader needs no write access to it.
//
// A full disk is an error, never a crash: nothing is opened for writing or
// written unless the filesystem has room for what Badger may write through
// its memory-mapped files (space.go; ErrNoSpace otherwise).
//
// Badger's own compactors are off (they look at the levels every 50 ms,
// which kept an idle daemon awake): a writing Chain compacts level 0 itself,
// in the background as writes come in and at Close, so nothing in this
// package runs on a timer.
//
// The room of deleted values comes back only through ReclaimSpace, which
// rewrites Badger's value log (values of 64 KiB or more live there); the
// writes of the chain wait while it flushes and compacts, and never fail
// because of it.
//
// A *Chain is safe for concurrent use by multiple goroutines.
package chain
