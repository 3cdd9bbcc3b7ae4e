//go:build race

package uuid

// raceEnabled: the race detector makes more values escape, so allocation
// counts are not checked under it.
const raceEnabled = true
