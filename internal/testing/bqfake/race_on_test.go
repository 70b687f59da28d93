//go:build race

package bqfake

const raceEnabled = true
