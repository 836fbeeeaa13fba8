// Package peers owns everything libp2p: the host built from the agent key
// (so the peer ID is derived from the agent ID), the n2n Kademlia DHT
// (protocol prefix "/n2n", its own network), the signed agent record and its
// DHT validator, the address book, resolution of an agent to a connection
// (live connection, address book, DHT), and /n2n/1.0.0 streams.
// No other package imports libp2p; callers see keys.PublicKey, multiaddrs,
// and the Stream interface.
//
// Agent record: DHT key "/n2n/agent/" followed by the 32 raw bytes of the
// agent key; value the deterministic CBOR (core deterministic encoding)
// {key, addrs, seq, sig}, where sig is the agent's Ed25519 signature of
// "n2n agent record v1" followed by the encoding without sig. Validator
// accepts only canonical, size-bounded records whose key matches the DHT key
// and whose signature verifies; Select picks the highest seq. Servers
// republish every Options.Republish (10 minutes) and when their addresses
// change, retrying a failure after 1 s, doubling up to a minute; seq is
// Unix microseconds, strictly increasing per process. Nothing here runs on a
// timer shorter than that while a server is idle: a server with an empty
// routing table waits for a peer to enter it (the host's connection
// manager signals it) instead of looking.
//
// Guarantees: Connect and Resolve (Connect that also returns the addresses
// of the step that connected) fail with an *UnreachableError (errors.Is
// ErrUnreachable) when no step connects, saying why: not found (the DHT was
// asked until every closer peer answered), no peers to ask, refused, no
// route, relay refused, or no reply; ErrWrongPeer when an address answered
// with another key; context.Canceled if the caller cancelled. How the dials
// failed wins over how a lookup ended. A refused address fails at once, and
// so does a dial all of whose addresses refused, a QUIC address counting as
// refused once a TCP address on its IP has (quic-go never hears a closed UDP
// port's answer); a silent address fails after Options.DialTimeout. A DHT
// lookup ends when the closest peers it heard of have answered or failed,
// and a DHT peer that does not connect within a second counts as failed, so
// silent peers hold a lookup up for about a second, not the dial timeout.
// The swarm's dial backoff is cleared at the start of each Connect, so an
// explicit retry is never refused because an earlier attempt in the same
// process failed. Addresses that connected are written to the address book
// with DefaultTTL, except that a connection from the address book rewrites
// the entry only when it was not confirmed in the last hour or its address
// expires within half the TTL. The DHT step runs the record lookup and
// FindPeer at once, dials what each finds as soon as it has it, and stops at
// the first connection; a record is used only once verified. A caller that
// shows progress learns each step as it begins (WithStepFunc). Nothing here
// prints or exits; errors read "peers: …".
//
// Hosts: NewServer (n2n serve) listens on TCP and QUIC and runs the DHT;
// NewClient (one-shot commands) does not listen, dials TCP, QUIC and relay
// addresses, has no resource or connection manager, and creates a
// client-mode DHT (lookup concurrency 3) only when the address book did not
// connect. The libp2p identity is the agent's Ed25519 key, so a peer ID is
// derived from an agent ID with no lookup, and RemoteAgent of a Stream is
// the key the transport authenticated.
//
// Across NATs: a public node (Options.Public, serve --public) serves the
// DHT, answers AutoNAT, and runs the circuit relay v2 service at once with
// RelayLimits (libp2p would wait for AutoNAT to call it public, which on a
// network of private addresses never happens), advertising Options.Announce
// if given. Any other server runs the DHT in kad-dht's ModeAutoServer and
// AutoNAT v2, relays for nobody, and takes itself to be behind a NAT when it
// listens on private addresses only and a bootstrap peer is outside its
// networks (or Options.BehindNAT): then it is a DHT client and AutoRelay
// reserves a slot at once, bootstrap peers first, then DHT peers that relay.
// Its circuit addresses are advertised and published in its record, those
// through relays on private addresses too (reservations.go). When an agent
// reaches it through a relay, it hole-punches (DCUtR) from its public and
// NAT-observed addresses, and tries again, 5 times over a minute, while
// only the relayed connection exists. Path tells a direct connection from a
// relayed one, with the relay's data limit and what n2n's streams moved over
// it; WaitDirect waits for the direct one (a client, which cannot punch,
// does not wait).
//
// Contact cards (Card, "n2ncard1…") carry an agent key with its own and its
// bootstrap nodes' addresses; the address book keeps the bootstrap nodes a
// card brought (AddBootstrap, BootstrapNodes).
//
// Logging: libp2p, kad-dht, quic-go and zeroconf (mDNS) log to stderr on
// their own. This package turns that off at init, the standard log
// package's output included, unless GOLOG_LOG_LEVEL (or IPFS_LOGGING) is
// set, which restores their usual logging for debugging.
//
// mDNS: with Options.MDNS a server runs go-libp2p's mDNS discovery under
// the service name MDNSService ("n2n"): it advertises the host's interface
// listen addresses and browses for other servers on every up,
// multicast-capable interface (224.0.0.251 and ff02::fb, port 5353). Each
// n2n agent found (an Ed25519 peer ID) that is not already connected is
// dialled in the background, bounded by Options.DialTimeout, and once
// identified enters the DHT routing table, so servers on one network need no
// bootstrap peers. The mDNS library reports a peer once, then again only
// when it restarts or its announcement (TTL 3200 s) expires, so only then is
// a failed dial retried. NewServer fails if mDNS cannot start (no usable
// multicast interface); Close stops it. Clients never use mDNS.
//
// Contacts: the user's names for agents (petnames), kept in the home's
// ContactsSide under "contact/" and the 32 raw bytes of the agent key, the
// value {1: name, 2: added µs} in deterministic CBOR. A name matches
// [a-z][a-z0-9_-]{0,31}, is not "self" and does not begin as an ID does;
// it names one agent and an agent has one name. The daemon's policy asks
// "is this agent a contact?" with one lookup (Contacts.Of).
//
// Files, each using unexported names only of files listed before it:
//
//   - log.go: silencing the libraries' logs.
//   - ids.go: agent key to peer ID and back.
//   - rtsignal.go: a host's signal that its routing table grew.
//   - reservations.go: the relays a server holds a reservation with.
//   - unreachable.go: UnreachableError and how dials and lookups failed.
//   - refusal.go: refused TCP dials, reported as they happen to the dials
//     in progress (a TCP transport that reports them).
//   - node.go: Node, Options, errors, accessors, background work, Close.
//   - dial.go: dialling a peer (ending when every address refused); the
//     host as the DHT sees it, whose dials of DHT peers are bounded.
//   - dht.go: DHT creation, bootstrap, waiting for the routing table.
//   - publish.go: agent-record (re)publishing.
//   - mdns.go: mDNS discovery.
//   - path.go: Path, direct or relayed; the bytes moved over relays.
//   - relay.go: public nodes, AutoRelay, announced addresses, the NAT guess.
//   - punch.go: hole punching and its retries.
//   - host.go: NewServer and NewClient, the server's resource manager.
//   - portfree.go: CheckPortsFree, before a server listens.
//   - record.go: the agent record and its DHT validator.
//   - addrbook.go: the address book and its Store.
//   - memstore.go: MemStore, a Store in memory.
//   - card.go: contact cards; the home's bootstrap nodes.
//   - contacts.go: Contacts, names for agents, in a Store.
//   - steps.go: WithStepFunc, the steps of resolution as they begin.
//   - resolve.go: Connect and Resolve.
//   - stream.go: /n2n/1.0.0 streams.
//
// Concurrency: Node, AddrBook (with one writer per Store), Contacts and
// MemStore are safe for concurrent use. Record values are not synchronised.
package peers
