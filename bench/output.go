package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people: the machine, the figures per
// store side by side, and the goals.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "machine\t%s/%s, %d cores, %s\t\n", r.GOOS, r.GOARCH, r.Cores, r.GoVersion)
	fmt.Fprintf(tw, "disk fsync (4 KiB + fdatasync)\t%.0f /s\t\n", r.FsyncPerSecond)
	fmt.Fprintf(tw, "disk sequential write\t%.0f MB/s\t\n", r.SeqWriteMBPerSecond)
	fmt.Fprintln(tw, "\t")

	columns := []StoreResult{r.StoreResult}
	if r.ESDB != nil {
		columns = append(columns, *r.ESDB)
	}
	row := func(label string, cell func(StoreResult) string, peer string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, c := range columns {
			fmt.Fprintf(tw, "%s\t", cell(c))
		}
		if r.Peers != nil {
			fmt.Fprintf(tw, "%s\t", peer)
		}
		fmt.Fprintln(tw)
	}
	rate := func(v float64) string { return fmt.Sprintf("%.0f /s", v) }
	peerRate := func(pick func(PeerResult) float64) string {
		if r.Peers == nil {
			return ""
		}
		return rate(pick(*r.Peers))
	}
	row("store", func(c StoreResult) string { return c.Store }, "peer")
	row(fmt.Sprintf("appends, %d writers × 1 event", r.ConcurrentWriters),
		func(c StoreResult) string { return rate(c.AppendConcurrentEPS) }, peerRate(func(p PeerResult) float64 { return p.AppendConcurrentEPS }))
	row("  × the disk's fsync rate",
		func(c StoreResult) string { return fmt.Sprintf("%.1f×", c.AppendConcurrentVsFsync) }, "")
	row(fmt.Sprintf("appends, %d writers × %d events", r.BatchWriters, r.BatchSize),
		func(c StoreResult) string { return rate(c.AppendBatchEPS) }, peerRate(func(p PeerResult) float64 { return p.AppendBatchEPS }))
	row("live events to a subscriber",
		func(c StoreResult) string { return fmt.Sprintf("%d in %.2f s", c.SubscribeResult.Events, c.Seconds) }, "")
	row("fill (whole streams, concurrent)",
		func(c StoreResult) string { return rate(c.FillEPS) }, "")
	row(fmt.Sprintf("replay of %d events, typed + fold, first", r.Events),
		func(c StoreResult) string { return rate(c.ReplayColdEPS) }, peerRate(func(p PeerResult) float64 { return p.ReplayColdEPS }))
	row("replay, raw scan (no decoding)",
		func(c StoreResult) string { return rate(c.ReplayRawEPS) }, peerRate(func(p PeerResult) float64 { return p.ReplayRawEPS }))
	row("replay, typed + fold, store in memory",
		func(c StoreResult) string { return rate(c.ReplayEPS) }, peerRate(func(p PeerResult) float64 { return p.ReplayEPS }))
	if r.Peers != nil {
		fmt.Fprintf(tw, "bolt / peer: concurrent, batch, replay\t%.1f×, %.1f×, %.1f×\t\n",
			r.VsPeers.AppendConcurrent, r.VsPeers.AppendBatch, r.VsPeers.Replay)
		fmt.Fprintf(tw, "same folded facts as the peer\t%t\t\n", r.VsPeers.SameFold)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Peers != nil {
		fmt.Fprintf(w, "\npeer: %s\n", r.Peers.Store)
	}
	fmt.Fprintln(w)
	for _, g := range r.Goals {
		verdict := "FAIL"
		switch {
		case g.Pass:
			verdict = "PASS"
		case g.Note != "":
			verdict = "NOT JUDGED" // the run did not meet the goal's conditions (its size)
		}
		fmt.Fprintf(w, "goal %s ≥ %.0f: %s, measured %.1f\n", g.Name, g.Target, verdict, g.Measured)
		if g.Note != "" {
			fmt.Fprintf(w, "  (%s)\n", g.Note)
		}
	}
	return nil
}
