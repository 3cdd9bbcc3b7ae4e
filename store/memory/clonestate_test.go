package memory

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/x/flapjack"
)

func TestCloneStateIsDeep(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2, 3} {
		s := flapjack.State{CreatedAt: time.Unix(1, 0), Condition: flapjack.Critical, Summary: "down"}
		if n >= 0 {
			s.Perfdata = []flapjack.PerfDatum{}
		}
		for i := range n {
			s.Perfdata = append(s.Perfdata, flapjack.PerfDatum{Key: fmt.Sprint("k", i), Value: "v"})
		}
		want := s.Clone()
		c := cloneState(&s)
		if !reflect.DeepEqual(*c, want) {
			t.Fatalf("%d perfdata: copy %#v, want %#v", n, *c, want)
		}
		if n > 0 {
			c.Perfdata[0].Value = "scribbled"
			if s.Perfdata[0].Value != "v" {
				t.Errorf("%d perfdata: changing the copy changed the original", n)
			}
			grown := append(c.Perfdata, flapjack.PerfDatum{Key: "more"})
			grown[0].Value = "again"
			if c.Perfdata[0].Value != "scribbled" {
				t.Errorf("%d perfdata: appending to the copy's perfdata wrote into it", n)
			}
		}
	}
}
