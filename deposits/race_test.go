//go:build race

package deposits

const raceEnabled = true
