package caps

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// Decision is the outcome of Check. A refusal carries no detail.
type Decision struct {
	Allowed bool
	Access  string    // author|unrestricted|transferable|assigned
	GrantID keys.Hash // zero for the author grant
	Tag     string
}

// Check decides whether caller (already authenticated) may call function,
// presenting secret (nil for none), on the agent whose chain c is. In order
// (PROTOCOL.md §10.3):
//
//  1. caller is the chain's agent: the author grant;
//  2. a live unrestricted grant covers function (whatever secret is given);
//  3. a live transferable grant covers function and its secret is secret;
//  4. a live assigned grant covers function, its secret is secret and
//     caller is one of its assignees;
//  5. otherwise refused.
//
// Grants are found through the indexes (function → unrestricted grants,
// secret digest → grant), so the cost is flat in the number of grants;
// secrets are compared in constant time. A grant authorizes only if its
// action and entry are what the chain's agent signed (indexed). An error
// means the store could not be read, or a grant it found failed that check
// (an *chain.IntegrityError: the home was altered outside n2n); its text
// names neither the secret nor any grant.
func Check(c *chain.Chain, caller keys.PublicKey, function string, secret []byte) (Decision, error) {
	if caller == c.Identity().Public() {
		return Decision{Allowed: true, Access: AccessAuthor}, nil
	}
	if !ValidFunction(function) {
		return Decision{}, nil
	}
	for _, name := range [...]string{function, AllFunctions} {
		d, err := checkOpen(c, name)
		if err != nil {
			return Decision{}, checkErr(err)
		}
		if d.Allowed {
			return d, nil
		}
	}
	if len(secret) != SecretSize {
		return Decision{}, nil
	}
	v, err := c.IndexGet(idxSecret, secretDigest(secret))
	if errors.Is(err, chain.ErrNotFound) {
		return Decision{}, nil
	}
	if err != nil {
		return Decision{}, checkErr(err)
	}
	if len(v) != hashLen {
		return Decision{}, checkErr(errNoGrant)
	}
	id := keys.Hash(v)
	g, live, err := indexed(c, id)
	if err != nil {
		return Decision{}, checkErr(err)
	}
	if !live { // revoked or replaced since the lookup
		return Decision{}, nil
	}
	defer clear(g.Secret)
	match := subtle.ConstantTimeCompare(g.Secret, secret) == 1 && g.Covers(function)
	switch {
	case match && g.Access == Transferable,
		match && g.Access == Assigned && slices.Contains(g.Assignees, caller):
		return Decision{Allowed: true, Access: string(g.Access), GrantID: id, Tag: g.Tag}, nil
	}
	return Decision{}, nil
}

// errFound stops the capopen scan at the first live grant.
var errFound = errors.New("found")

// checkOpen looks for a live unrestricted grant listing name (a function or
// AllFunctions). With several, it reports the one with the lowest grant ID.
func checkOpen(c *chain.Chain, name string) (Decision, error) {
	if _, err := c.IndexGet(idxAny, []byte(name)); errors.Is(err, chain.ErrNotFound) {
		return Decision{}, nil // no unrestricted grant ever named it
	} else if err != nil {
		return Decision{}, err
	}
	prefix := openPrefix(name)
	var d Decision
	err := c.IndexScan(idxOpen, prefix, func(k, _ []byte) error {
		if len(k) != len(prefix)+hashLen {
			return nil // not a key this package writes
		}
		id := keys.Hash(k[len(prefix):])
		g, live, err := indexed(c, id)
		if errors.Is(err, errNoGrant) || err == nil && !live {
			return nil
		}
		if err != nil {
			return err
		}
		clear(g.Secret)
		if g.Access == Unrestricted && g.Covers(name) {
			d = Decision{Allowed: true, Access: string(Unrestricted), GrantID: id, Tag: g.Tag}
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return Decision{}, err
	}
	return d, nil
}

// checkErr keeps grant details out of Check's errors. A grant that fails
// its integrity check is named by its action's seq only.
func checkErr(err error) error {
	var ie *chain.IntegrityError
	switch {
	case errors.As(err, &ie):
		return fmt.Errorf("caps: check: a grant failed its integrity check: %w", ie)
	case errors.Is(err, chain.ErrEncoding):
		return fmt.Errorf("caps: check: a stored grant does not decode: %w", chain.ErrEncoding)
	case errors.Is(err, errNoGrant):
		return fmt.Errorf("caps: check: %w", errNoGrant)
	}
	return fmt.Errorf("caps: check: %w", err)
}
