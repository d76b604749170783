//go:build !race

package deposits

const raceEnabled = false
