//go:build !race

package gorgiassim

const raceEnabled = false
