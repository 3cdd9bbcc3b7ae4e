//go:build !unix

package receiver

import (
	"errors"
	"os"
)

// errNoPipes: named pipes as Nagios writes them exist on Unix systems only.
var errNoPipes = errors.New("named pipes are not supported on this system")

func canRead(string) error { return errNoPipes }

func awaitData(*os.File, []byte) (int, error) { return 0, errNoPipes }
