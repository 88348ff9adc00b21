package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// fixedItemCount is the number of items every user sees before adding any.
const fixedItemCount = 50

// item is one entry of the items list.
type item struct {
	id   string
	name string
}

// store holds the users and the items they added, in memory.
type store struct {
	users []User

	mu    sync.Mutex
	added map[string][]item // by user ID
}

func newStore(users []User) *store {
	return &store{users: users, added: make(map[string][]item)}
}

// byID returns the user with the given ID.
func (s *store) byID(id string) (User, bool) {
	for _, u := range s.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// login finds the user named by username, email or both (then both must
// name the same user) and checks the password in constant time. Empty
// strings count as not given.
func (s *store) login(username, email, password string) (User, bool) {
	if username == "" && email == "" {
		return User{}, false
	}
	var found *User
	for i, u := range s.users {
		if (username == "" || u.Username == username) && (email == "" || strings.EqualFold(u.Email, email)) {
			found = &s.users[i]
			break
		}
	}
	// Compare even when nobody matched, so timing does not tell whether a
	// user exists.
	want := "\x00no user"
	if found != nil {
		want = found.Password
	}
	if !equalSecret(password, want) || found == nil {
		return User{}, false
	}
	return *found, true
}

// equalSecret compares two secrets in time independent of their contents
// and lengths.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// items returns the fixed items followed by those userID added.
func (s *store) items(userID string) []item {
	all := make([]item, 0, fixedItemCount)
	for i := 1; i <= fixedItemCount; i++ {
		all = append(all, item{id: strconv.Itoa(i), name: fmt.Sprintf("Item %d", i)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(all, s.added[userID]...)
}

// addItem appends an item to userID's list.
func (s *store) addItem(userID, name string) item {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := item{id: strconv.Itoa(fixedItemCount + len(s.added[userID]) + 1), name: name}
	s.added[userID] = append(s.added[userID], it)
	return it
}
