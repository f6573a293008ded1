package outcomes

import "slices"

// ratio is part/whole, or nil when whole is 0: a rate nobody could have
// had is unknown, not zero.
func ratio(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	r := float64(part) / float64(whole)
	return &r
}

// mean is sum/n, or nil for no values. Sums are integers, so the result
// does not depend on the order values were added in.
func mean(sum int64, n int) *float64 {
	if n == 0 {
		return nil
	}
	m := float64(sum) / float64(n)
	return &m
}

// summary is the count, quartiles and mean of a set of whole numbers of days.
type summary struct {
	count            int
	median, p25, p75 *float64
	mean             *float64
}

// summarize sorts values in place and describes them.
func summarize(values []int32) summary {
	slices.Sort(values)
	var sum int64
	for _, v := range values {
		sum += int64(v)
	}
	return summary{
		count:  len(values),
		median: quantile(values, 0.5),
		p25:    quantile(values, 0.25),
		p75:    quantile(values, 0.75),
		mean:   mean(sum, len(values)),
	}
}

// quantile interpolates linearly between the order statistics of sorted
// values: h = (n−1)·p, value = x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
func quantile(sorted []int32, p float64) *float64 {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	h := float64(n-1) * p
	lo := int(h)
	q := float64(sorted[lo])
	if lo+1 < n {
		q += (h - float64(lo)) * float64(sorted[lo+1]-sorted[lo])
	}
	return &q
}
