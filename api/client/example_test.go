package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/x/flapjack/api"
	"github.com/x/flapjack/api/client"
	"github.com/x/flapjack/store/memory"
)

// Create a contact, an email medium of theirs and a rule sending them critical
// alerts of checks tagged db.
func Example() {
	st := memory.New()
	defer st.Close()
	srv := httptest.NewServer(api.Handler(st, api.Options{}))
	defer srv.Close()

	ctx := context.Background()
	c := client.New(srv.URL)

	contact, err := c.Contacts.Create(ctx, &client.Contact{Name: "Ada Lovelace", Timezone: "Europe/London"})
	if err != nil {
		log.Fatal(err)
	}
	medium, err := c.Media.Create(ctx, &client.Medium{
		ContactID: contact.ID,
		Transport: "email",
		Address:   "ada@example.com",
		Interval:  900,
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Rules.Create(ctx, &client.Rule{
		ContactID:      contact.ID,
		MediaIDs:       []string{medium.ID},
		Tags:           []string{"db"},
		Enabled:        true,
		Strategy:       "all_tags",
		ConditionsList: "critical",
	})
	if err != nil {
		log.Fatal(err)
	}

	got, err := c.Contacts.Get(ctx, contact.ID, &client.ListOptions{Include: []string{"media", "rules"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name, got.Timezone)
	fmt.Println(len(got.Relationships["media"]), "medium,", len(got.Relationships["rules"]), "rule")
	for m, err := range c.Media.All(ctx, &client.ListOptions{Filter: []string{"transport:email"}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Transport, m.Address, m.Interval)
	}

	_, err = c.Contacts.Get(ctx, "no-such-contact", nil)
	fmt.Println(err)
	// Output:
	// Ada Lovelace Europe/London
	// 1 medium, 1 rule
	// email ada@example.com 900
	// flapjack: 404: could not find Contact record, id: 'no-such-contact'
}
