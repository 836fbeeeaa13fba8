// Package caps owns capability security (PROTOCOL.md §10.3): grant and claim
// entries on the source chain, tickets (the text a grantor hands out of
// band), revocation and update of grants, and the authorization check run
// for every incoming call.
//
// Guarantees:
//
//   - Every write goes through chain.Append, so a grant's entry, its action
//     and its index entries (which name it by grant ID, through
//     chain.Draft.IndexFunc) commit in one transaction; a revoke removes the
//     index entries in the same transaction as the delete action, so a
//     revoked grant authorizes nothing once Revoke returns.
//   - Check finds grants through indexes only (secret digest → grant,
//     function name → unrestricted grants), with a fixed number of point
//     lookups and prefix seeks: its cost does not grow with the number of
//     grants. It trusts an index entry only to find a candidate: the grant
//     it names must be live and of the right kind. It compares secrets in
//     constant time, and a presented secret never makes an unrestricted
//     grant refuse.
//   - Secrets are never stored as index keys, and neither secrets nor the
//     existence of grants appear in error text; Secret values print as
//     "[secret]" with any fmt verb.
//   - Decoders (entries and tickets) are strict: input that would not
//     re-encode to the same bytes is rejected. Ticket errors wrap
//     keys.ErrMalformed or keys.ErrChecksum.
//
// Every function is safe for concurrent use (as a *chain.Chain is); writes
// made through this package are serialized with one another, so checks
// that a grant is live and that no live grant uses its secret hold when its
// action is appended.
package caps
