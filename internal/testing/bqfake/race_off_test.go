//go:build !race

package bqfake

const raceEnabled = false
