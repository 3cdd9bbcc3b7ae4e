package redisstore

import (
	"testing"

	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/storetest"
)

func TestDecisions(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	storetest.RunDecisions(t, func(t *testing.T) store.Store {
		flushAll(t, srv)
		return newStore(t, testOptions(srv))
	})
}

func TestDecisionsOnCluster(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{Cluster: true})
	storetest.RunDecisions(t, func(t *testing.T) store.Store {
		flushAll(t, srv)
		opts := testOptions(srv)
		opts.Cluster = true
		opts.Prefix = "{flapjack}:"
		return newStore(t, opts)
	})
}
