package daemon

import (
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/keys"
)

// claimWindow is the time over which Quotas.StrangerClaims counts.
const claimWindow = time.Hour

// strangerClaims remembers the claims of strangers that went onto the
// chain in the last claimWindow. It is read from the chain when first
// needed (every claim stored in the window by an agent that is not a
// contact counts), so a restart does not reset it. Under claimMu.
type strangerClaims struct {
	loaded bool
	recent []strangerClaim // oldest first
}

type strangerClaim struct {
	at      time.Time
	grantor keys.PublicKey
}

func (s *strangerClaims) load(d *Daemon, now time.Time) error {
	if s.loaded {
		return nil
	}
	list, err := caps.Claims(d.Chain)
	if err != nil {
		return err
	}
	for _, ci := range list {
		if now.Sub(ci.Time) >= claimWindow || ci.Grantor == d.ID().Public() {
			continue
		}
		if _, contact, err := d.Contacts().Of(ci.Grantor); err != nil {
			return err
		} else if !contact {
			s.recent = append(s.recent, strangerClaim{ci.Time, ci.Grantor})
		}
	}
	s.loaded = true
	return nil
}

// allows reports whether grantor's claim may go onto the chain now.
func (s *strangerClaims) allows(q Quotas, grantor keys.PublicKey, now time.Time) bool {
	i := 0
	for i < len(s.recent) && now.Sub(s.recent[i].at) >= claimWindow {
		i++
	}
	s.recent = s.recent[i:]
	n := 0
	for _, c := range s.recent {
		if c.grantor == grantor {
			n++
		}
	}
	return len(s.recent) < q.StrangerClaims && n < q.StrangerClaimsEach
}

// stored counts a stranger's claim put on the chain now.
func (s *strangerClaims) stored(grantor keys.PublicKey, now time.Time) {
	s.recent = append(s.recent, strangerClaim{now, grantor})
}
