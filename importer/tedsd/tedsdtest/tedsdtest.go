// Package tedsdtest writes synthetic TEDS-D discharge files, made from the
// format description alone (SAMHSA's codebook; no real rows), for tests and
// benchmarks of the importer. The mix of settings, reasons and lengths of
// stay follows the published national shares, so reports drawn from a
// synthetic file look plausible; every value is random otherwise.
package tedsdtest

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// Header is the synthetic file's columns: the variables the importer reads
// among others it must ignore, in an order unlike the codebook's, as real
// files' order changes across years.
var Header = []string{
	"DISYR", "STFIPS", "CBSA2010", "EDUC", "MARSTAT", "SERVICES", "DETCRIM", "NOPRIOR", "PSOURCE",
	"ARRESTS", "EMPLOY", "METHUSE", "PSYPROB", "PREG", "GENDER", "VET", "LIVARAG", "DAYWAIT",
	"SERVICES_D", "REASON", "EMPLOY_D", "LIVARAG_D", "ARRESTS_D", "DSMCRIT", "AGE", "RACE",
	"ETHNIC", "DETNLF", "PRIMINC", "SUB1", "ROUTE1", "FREQ1", "FRSTUSE1", "LOS", "CASEID", "FREQ_ATND_SELF_HELP",
}

// Options describe a file.
type Options struct {
	// Rows is how many rows to write.
	Rows int
	// Seed selects one of many equally plausible files.
	Seed uint64
	// Year is every row's DISYR.
	Year int
	// FirstCaseID is the first row's CASEID; the others follow it.
	FirstCaseID int64
	// MissingShare is the share (0–1) of optional values (SERVICES_D, LOS,
	// AGE, STFIPS) written as -9.
	MissingShare float64
}

// Shares of the national file (TEDS-D 2019), in percent, by code.
var (
	serviceShares = []float64{0, 2.6, 14.3, 0.2, 10.5, 7.1, 13.7, 51.0, 0.8}
	reasonShares  = []float64{0, 42.1, 25.1, 5.5, 21.5, 1.5, 0.2, 4.0}
	losShares     = func() []float64 {
		s := make([]float64, 38)
		s[1], s[2], s[3] = 15.1, 4.5, 3.8
		for d := 4; d <= 30; d++ {
			s[d] = 1.5
		}
		s[31], s[32], s[33], s[34], s[35], s[36], s[37] = 6.5, 5.0, 8.2, 5.0, 6.0, 7.5, 5.4
		return s
	}()
	states = []int{1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
		29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 44, 45, 46, 47, 48, 49, 50, 51, 53, 54, 55, 56, 72}
)

// pick draws a code with the given shares (index = code).
func pick(r *rand.Rand, shares []float64) int {
	total := 0.0
	for _, s := range shares {
		total += s
	}
	x := r.Float64() * total
	for code, s := range shares {
		if x < s {
			return code
		}
		x -= s
	}
	return len(shares) - 1
}

// Write writes a file: the header line and opts.Rows rows.
func Write(w io.Writer, opts Options) error {
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed))
	out := bufio.NewWriter(w)
	row := make([]int64, len(Header))
	line := make([]byte, 0, 256)
	line = appendRow(line[:0], Header, nil)
	if _, err := out.Write(line); err != nil {
		return err
	}
	maybe := func(v int) int64 {
		if r.Float64() < opts.MissingShare {
			return -9
		}
		return int64(v)
	}
	for i := range opts.Rows {
		services := pick(r, serviceShares)
		servicesD := services
		if r.IntN(6) == 0 {
			servicesD = 1 + r.IntN(8)
		}
		for c, name := range Header {
			switch name {
			case "DISYR":
				row[c] = int64(opts.Year)
			case "CASEID":
				row[c] = opts.FirstCaseID + int64(i)
			case "SERVICES":
				row[c] = int64(services)
			case "SERVICES_D":
				row[c] = maybe(servicesD)
			case "REASON":
				row[c] = int64(pick(r, reasonShares))
			case "LOS":
				row[c] = maybe(pick(r, losShares))
			case "AGE":
				row[c] = maybe(1 + r.IntN(12))
			case "STFIPS":
				row[c] = maybe(states[r.IntN(len(states))])
			default:
				row[c] = int64(r.IntN(10)) - 1
				if row[c] == 0 {
					row[c] = -9
				}
			}
		}
		line = appendRow(line[:0], nil, row)
		if _, err := out.Write(line); err != nil {
			return err
		}
	}
	return out.Flush()
}

// appendRow writes names (the header) or values as one CSV line.
func appendRow(b []byte, names []string, values []int64) []byte {
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
	}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return append(b, '\n')
}
