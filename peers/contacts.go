package peers

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// ContactsSide is the side store of the home that holds the contacts.
const ContactsSide = "contacts"

// contactPrefix is the key prefix of contacts; the 32 raw bytes of the
// agent key follow, so that "is this agent a contact?", which the daemon
// asks of messages and claims, is one lookup.
const contactPrefix = "contact/"

// Contact is an agent the user gave a name (a petname): wherever an agent
// ID is asked for, the name will do.
type Contact struct {
	Name  string
	Agent keys.PublicKey
	Added time.Time
}

// Errors of the contacts, for callers to map to exit statuses.
var (
	ErrBadName      = errors.New("not a contact name") // see ValidName
	ErrNameTaken    = errors.New("name taken")         // by another agent
	ErrKnownContact = errors.New("already a contact")  // under another name
	ErrNoContact    = errors.New("not a contact")
)

// Contact names (their rule is also in the help of contacts add).
const (
	// MaxNameLen is the longest contact name.
	MaxNameLen = 32
	// nameRule is what ValidName accepts, for messages.
	nameRule = "a lower-case letter, then up to 31 of a-z, 0-9, _ and -"
)

// ValidName reports why name cannot name a contact (nil if it can): it
// must match [a-z][a-z0-9_-]{0,31}, and must neither be "self" (call --to
// self) nor begin as an ID does ("u", "uh", "uhc…", in any case), so that a
// name can never be read as an ID or an ID cut short as a name.
func ValidName(name string) error {
	if name == "" || len(name) > MaxNameLen || name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("%w %q: want %s", ErrBadName, name, nameRule)
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w %q: want %s", ErrBadName, name, nameRule)
		}
	}
	switch {
	case name == "self":
		return fmt.Errorf("%w %q: self means this agent", ErrBadName, name)
	case strings.HasPrefix("uhc", name) || strings.HasPrefix(name, "uhc"):
		return fmt.Errorf("%w %q: it begins as an ID does (uhC…)", ErrBadName, name)
	}
	return nil
}

// Contacts are the user's names for other agents, kept in the home
// (ContactsSide), not on the chain. A name names one agent, and an agent has
// one name. The zero value is not usable; set Store. Safe for concurrent
// use; Add and Remove of one process are serialized (the home has one
// writing process).
type Contacts struct {
	Store Store
}

// contactsMu serializes Add and Remove: Add checks that the name is free
// before it writes.
var contactsMu sync.Mutex

// contactValue is a contact's stored value.
type contactValue struct {
	Name  string `cbor:"1,keyasint"`
	Added int64  `cbor:"2,keyasint"` // µs
}

// contactDecMode reads contacts, from the home.
var contactDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// DecodeContact reads the stored value of the contact for agent.
func DecodeContact(agent keys.PublicKey, v []byte) (Contact, error) {
	var cv contactValue
	if err := contactDecMode().Unmarshal(v, &cv); err != nil {
		return Contact{}, fmt.Errorf("peers: contact: %w", err)
	}
	if err := ValidName(cv.Name); err != nil {
		return Contact{}, fmt.Errorf("peers: contact: %w", err)
	}
	return Contact{Name: cv.Name, Agent: agent, Added: time.UnixMicro(cv.Added)}, nil
}

func contactKey(agent keys.PublicKey) []byte { return append([]byte(contactPrefix), agent[:]...) }

// Add names agent. A name in use for another agent is ErrNameTaken; an
// agent that already has a name is ErrKnownContact (the same name again is
// no error).
func (c Contacts) Add(name string, agent keys.PublicKey, now time.Time) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("peers: %w", err)
	}
	contactsMu.Lock()
	defer contactsMu.Unlock()
	if k, ok, err := c.Lookup(name); err != nil {
		return err
	} else if ok && k.Agent != agent {
		return fmt.Errorf("peers: %w: %s names %s", ErrNameTaken, name, k.Agent)
	}
	if old, ok, err := c.Of(agent); err != nil {
		return err
	} else if ok {
		if old.Name == name {
			return nil
		}
		return fmt.Errorf("peers: %s is %w, named %s", agent, ErrKnownContact, old.Name)
	}
	v := detcbor.Marshal(&contactValue{Name: name, Added: now.UnixMicro()})
	if err := c.Store.Set(contactKey(agent), v); err != nil {
		return fmt.Errorf("peers: contacts: %w", err)
	}
	return nil
}

// Remove forgets the contact of that name and returns it.
func (c Contacts) Remove(name string) (Contact, error) {
	contactsMu.Lock()
	defer contactsMu.Unlock()
	k, ok, err := c.Lookup(name)
	if err != nil {
		return Contact{}, err
	}
	if !ok {
		return Contact{}, fmt.Errorf("peers: %s is %w", name, ErrNoContact)
	}
	if err := c.Store.Delete(contactKey(k.Agent)); err != nil {
		return Contact{}, fmt.Errorf("peers: contacts: %w", err)
	}
	return k, nil
}

// Of returns agent's contact, if it is one: one lookup.
func (c Contacts) Of(agent keys.PublicKey) (Contact, bool, error) {
	v, err := c.Store.Get(contactKey(agent))
	if err != nil || v == nil {
		return Contact{}, false, err
	}
	k, err := DecodeContact(agent, v)
	return k, err == nil, err
}

// Lookup returns the contact named name, if there is one. It reads every
// contact (a list people make by hand).
func (c Contacts) Lookup(name string) (Contact, bool, error) {
	list, err := c.List()
	if err != nil {
		return Contact{}, false, err
	}
	for _, k := range list {
		if k.Name == name {
			return k, true, nil
		}
	}
	return Contact{}, false, nil
}

// List returns the contacts by name.
func (c Contacts) List() ([]Contact, error) {
	var list []Contact
	err := c.Store.Iterate([]byte(contactPrefix), func(key, v []byte) error {
		var agent keys.PublicKey
		if len(key) != len(contactPrefix)+len(agent) {
			return fmt.Errorf("peers: contacts: a key of %d bytes", len(key))
		}
		copy(agent[:], key[len(contactPrefix):])
		k, err := DecodeContact(agent, v)
		if err != nil {
			return err
		}
		list = append(list, k)
		return nil
	})
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, err
}
