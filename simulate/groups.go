package simulate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// group is one therapy group: its stream folded with the domain's own
// Evolve, what the simulator remembers of each member's attendance, and
// today's queued joins and leaves.
type group struct {
	id, base domain.GroupID
	site     *site
	state    domain.Group
	// revision is the last folded revision (-1: none). known is the newest
	// revision the simulator's own commands reached: a history run folds
	// up to it and no further, so a repeated run sees the stream as the
	// first run saw it at the same point.
	revision, known int64
	step            int // idempotency steps used on the group's stream
	ops             []groupOp
	changes         []change
	// seen holds the attendance of current members; a member's entry goes
	// when the log says they left or completed.
	seen map[domain.PatientID]*memberStats
}

// memberStats is a member's attendance as the group leader counts it.
type memberStats struct {
	sessions, attended, absentRun  int
	module                         int
	moduleStart                    domain.Date
	moduleSessions, moduleAttended int
}

// change is an event of a group's log for the people's models.
type change struct {
	group *group
	event domain.Event
}

type groupOpKind uint8

const (
	opJoin groupOpKind = iota
	opLeave
	// opComplete completes the group, or leaves it with the op's reason
	// when the member has not completed its modules.
	opComplete
	// opChange changes the group's definition.
	opChange
)

// groupOp is a join, leave, completion or change queued for the group's day.
type groupOp struct {
	at      time.Time
	kind    groupOpKind
	patient *patient
	reason  domain.LeaveReason
	spec    domain.GroupSpec
	order   int
}

// closingToday reports whether a change queued for today stops the group.
func (g *group) closingToday() bool {
	for _, op := range g.ops {
		if op.kind == opChange && op.spec.Status != domain.Running {
			return true
		}
	}
	return false
}

// queue adds an op to g's day; the queue order breaks ties of time.
func (e *engine) queue(g *group, op groupOp) {
	op.order = len(g.ops)
	g.ops = append(g.ops, op)
}

// foldMode says how far foldGroup reads a group's stream.
type foldMode uint8

const (
	// foldToKnown: up to the simulator's last command (history runs).
	foldToKnown foldMode = iota
	// foldToEnd: everything (Live, where others write too).
	foldToEnd
	// foldUntilRun: up to the first event this run wrote (start of a run).
	foldUntilRun
)

func (e *engine) foldMode() foldMode {
	if e.live != nil {
		return foldToEnd
	}
	return foldToKnown
}

// foldPage is how many events one read of a group's stream returns.
const foldPage = 512

// foldGroup reads g's new events and folds them. Events folded during the
// run are also kept as changes for the people's models.
func (e *engine) foldGroup(ctx context.Context, g *group, mode foldMode) error {
	stream := domain.GroupStream(g.id)
	for mode != foldToKnown || g.revision < g.known {
		recs, err := e.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: eventstore.At(uint64(g.revision + 1)), Max: foldPage})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading group %s: %w", g.id, err)
		}
		for i := range recs {
			r := &recs[i]
			if mode == foldToKnown && int64(r.Revision) > g.known {
				return nil
			}
			if mode == foldUntilRun {
				if md, err := domain.DecodeMetadata(r.Metadata); err == nil && md.CorrelationID == e.correlation {
					return nil
				}
			}
			ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
			if err != nil {
				return fmt.Errorf("folding group %s: %w", g.id, err)
			}
			g.state.Evolve(ev)
			g.revision = int64(r.Revision)
			switch ev := ev.(type) {
			case domain.MemberLeft:
				delete(g.seen, ev.Patient)
			case domain.GroupCompleted:
				delete(g.seen, ev.Patient)
			}
			if mode != foldUntilRun {
				g.changes = append(g.changes, change{group: g, event: ev})
			}
		}
		if len(recs) < foldPage {
			return nil
		}
	}
	return nil
}

// sendGroup executes one command on g's stream and folds its events. A
// refusal is counted and leaves the group as it was.
func (e *engine) sendGroup(ctx context.Context, g *group, cmd domain.GroupCommand, journey bool) error {
	key := fmt.Sprintf("g/%s/%d", g.id, g.step)
	g.step++
	if e.live != nil {
		if err := e.live.wait(ctx, journey); err != nil {
			return err
		}
	}
	res, err := e.svc.Group(ctx, e.meta(key), cmd)
	if refused, fatal := e.classify(err); fatal != nil {
		return fmt.Errorf("group %s: %w", g.id, fatal)
	} else if refused {
		return e.foldGroup(ctx, g, e.foldMode())
	}
	e.count.recordResult(res)
	g.known = max(g.known, int64(res.Revision))
	if _, attendance := cmd.(domain.RecordAttendance); attendance {
		return nil // changes no seat: folded with the session's next decision
	}
	return e.foldGroup(ctx, g, e.foldMode())
}

// sessionsOn lists the slots g meets in on day d.
func (e *engine) sessionsOn(g *group, d domain.Date) []domain.Slot {
	spec := g.state.Spec
	if !g.state.Created || spec.Status != domain.Running {
		return nil
	}
	var slots []domain.Slot
	for _, sl := range spec.Slots {
		if sl.Day != d.Weekday() {
			continue
		}
		if spec.Cadence == domain.Monthly && (d.Day-1)/7+1 != sl.WeekOfMonth {
			continue
		}
		slots = append(slots, sl)
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].Start < slots[j].Start })
	return slots
}

// groupDay runs g's day in clinical-time order: the queued joins and
// leaves, and each session with its attendance and what follows from it.
func (e *engine) groupDay(ctx context.Context, g *group, d domain.Date, dayIndex int) error {
	r := newRand(e.cfg.Seed, e.runID+"/group/"+string(g.id), uint64(dayIndex))
	ops := g.ops
	sort.SliceStable(ops, func(i, j int) bool {
		if !ops[i].at.Equal(ops[j].at) {
			return ops[i].at.Before(ops[j].at)
		}
		return ops[i].order < ops[j].order
	})
	slots := e.sessionsOn(g, d)
	for i, j := 0, 0; i < len(ops) || j < len(slots); {
		if j >= len(slots) || i < len(ops) && !ops[i].at.After(e.at(d, int(slots[j].Start))) {
			if err := e.runGroupOp(ctx, g, ops[i]); err != nil {
				return err
			}
			i++
			continue
		}
		if err := e.session(ctx, g, d, slots[j], r); err != nil {
			return err
		}
		j++
	}
	return nil
}

// runGroupOp sends a queued op, checked first against the folded group:
// a person who already left is not removed twice, and a completion
// without the modules done is a leave.
func (e *engine) runGroupOp(ctx context.Context, g *group, op groupOp) error {
	if err := e.foldGroup(ctx, g, e.foldMode()); err != nil {
		return err
	}
	at := op.at
	if e.live != nil {
		at = e.live.now()
	}
	if op.kind == opChange {
		return e.sendGroup(ctx, g, domain.ChangeGroup{Group: g.id, Spec: op.spec, At: at}, true)
	}
	pid := op.patient.id
	m, member := g.state.Members[pid]
	waiting := slices.Contains(g.state.Waitlist, pid)
	switch op.kind {
	case opJoin:
		if member || waiting {
			return nil
		}
		return e.sendGroup(ctx, g, domain.JoinGroup{Group: g.id, Patient: pid, WaitlistIfFull: true, At: at}, true)
	case opComplete:
		if member && m.ModulesCompleted >= len(g.state.Spec.Modules) {
			return e.sendGroup(ctx, g, domain.CompleteGroup{Group: g.id, Patient: pid, At: at}, true)
		}
	}
	if !member && !waiting {
		return nil
	}
	return e.sendGroup(ctx, g, domain.LeaveGroup{Group: g.id, Patient: pid, Reason: op.reason, At: at}, true)
}

// session holds one session of g: attendance for everyone seated by its
// start, then the leader's decisions (removal after three absences in a
// row, module and group completions, the end of an open-ended stay).
func (e *engine) session(ctx context.Context, g *group, d domain.Date, slot domain.Slot, r *rand.Rand) error {
	if err := e.foldGroup(ctx, g, e.foldMode()); err != nil {
		return err
	}
	start, end := e.at(d, int(slot.Start)), e.at(d, int(slot.End))
	day, clock := d, slot.Start
	if e.live != nil {
		day, clock = domain.DateOf(start), domain.ClockTime(start.Hour()*60+start.Minute())
	}
	var members []domain.PatientID
	for pid, m := range g.state.Members {
		if !m.JoinedAt.After(start) {
			members = append(members, pid)
		}
	}
	if len(members) == 0 {
		return nil
	}
	slices.Sort(members)
	sid := domain.NewSessionID(day, clock)
	if _, held := g.state.Sessions[sid]; held {
		return nil
	}
	if err := e.sendGroup(ctx, g, domain.HoldSession{Group: g.id, Session: sid, At: start}, false); err != nil {
		return err
	}
	if _, held := g.state.Sessions[sid]; !held {
		return nil // refused (Live: someone changed the group); nothing to record
	}
	spec := g.state.Spec
	module, moduleStart := spec.ModuleOn(day)
	_, nextStart := spec.ModuleOn(day.AddDays(7))
	lastOfModule := module > 0 && !day.Before(spec.CycleStart) && nextStart != moduleStart
	dayCare := spec.Level == domain.Inpatient || spec.Level == domain.Residential
	for _, pid := range members {
		st := g.seen[pid]
		if st == nil {
			st = &memberStats{}
			g.seen[pid] = st
		}
		propensity := 0.8
		if p := e.patients[pid]; p != nil {
			propensity = p.attendance
		}
		if dayCare {
			propensity = max(propensity, 0.92)
		}
		status := domain.Present
		if !chance(r, propensity) {
			status = domain.Absent
			if chance(r, 0.5) {
				status = domain.Excused
			}
		}
		if err := e.sendGroup(ctx, g, domain.RecordAttendance{Group: g.id, Session: sid, Patient: pid, Status: status, At: end}, false); err != nil {
			return err
		}
		if st.module != module || st.moduleStart != moduleStart {
			st.module, st.moduleStart, st.moduleSessions, st.moduleAttended = module, moduleStart, 0, 0
		}
		st.sessions++
		st.moduleSessions++
		switch status {
		case domain.Present:
			st.attended++
			st.moduleAttended++
			st.absentRun = 0
		case domain.Absent:
			st.absentRun++
		}
	}
	if err := e.foldGroup(ctx, g, e.foldMode()); err != nil {
		return err
	}
	for _, pid := range members {
		if err := e.afterSession(ctx, g, day, end, pid, module, lastOfModule); err != nil {
			return err
		}
	}
	return nil
}

// afterSession is the leader's decision about one member after a session.
func (e *engine) afterSession(ctx context.Context, g *group, day domain.Date, end time.Time, pid domain.PatientID, module int, lastOfModule bool) error {
	m, member := g.state.Members[pid]
	if !member {
		return nil
	}
	st := g.seen[pid]
	spec := g.state.Spec
	n := len(spec.Modules)
	at := func(minutes int) time.Time {
		if e.live != nil {
			return e.live.now()
		}
		return end.Add(time.Duration(minutes) * time.Minute)
	}
	switch {
	case spec.Level == domain.Outpatient && st.absentRun >= 3:
		return e.sendGroup(ctx, g, domain.LeaveGroup{Group: g.id, Patient: pid, Reason: domain.LeaveNonAttendance, At: at(15)}, true)
	case n > 0 && lastOfModule && m.NextModule(n) == module && st.moduleAttended*2 >= st.moduleSessions:
		if err := e.sendGroup(ctx, g, domain.CompleteModule{Group: g.id, Patient: pid, Module: module, At: at(5)}, false); err != nil {
			return err
		}
		if m.ModulesCompleted+1 >= n {
			return e.sendGroup(ctx, g, domain.CompleteGroup{Group: g.id, Patient: pid, At: at(10)}, true)
		}
	case n == 0:
		p := e.patients[pid]
		if p == nil {
			return nil
		}
		target, ok := p.targets[g.id]
		if !ok || day.Before(target) {
			return nil
		}
		if st.attended*2 >= st.sessions {
			return e.sendGroup(ctx, g, domain.CompleteGroup{Group: g.id, Patient: pid, At: at(10)}, true)
		}
		return e.sendGroup(ctx, g, domain.LeaveGroup{Group: g.id, Patient: pid, Reason: domain.LeaveWithdrew, At: at(10)}, true)
	}
	return nil
}

// The operations calendar: things a health system's managers change, on
// fixed days of each simulated year, so a history also holds program and
// group changes. The evening IOP adds two places for the first half of the
// year; the women's self-esteem group, listed as not running, runs a
// sixteen-week season from day 40.
const (
	capacityUpDay   = 20
	capacityDownDay = 200
	seasonStartDay  = 40
	seasonWeeks     = 16
	yearDays        = 365
)

// seasonEnd is the last day of the self-esteem season running on day d.
func (e *engine) seasonEnd(d domain.Date) domain.Date {
	offset := d.DaysSince(e.cfg.Start)
	year := offset / yearDays
	if offset%yearDays >= seasonStartDay+seasonWeeks*7 {
		year++
	}
	return e.cfg.Start.AddDays(year*yearDays + seasonStartDay + seasonWeeks*7)
}

// operations makes the calendar's changes of day d.
func (e *engine) operations(ctx context.Context, d domain.Date, dayIndex int) error {
	switch dayIndex % yearDays {
	case capacityUpDay, capacityDownDay:
		delta := 2
		if dayIndex%yearDays == capacityDownDay {
			delta = -2
		}
		return e.changeCapacity(ctx, e.site, programIOPEvening, delta, d, dayIndex)
	case seasonStartDay:
		g := e.groups[e.site.group(groupSelfEsteem)]
		spec := g.state.Spec
		spec.Status = domain.Running
		spec.Slots = []domain.Slot{{Day: domain.Thursday, Start: 17 * 60, End: 18*60 + 30}}
		e.queue(g, groupOp{at: e.at(d, 7*60), kind: opChange, spec: spec})
	case seasonStartDay + seasonWeeks*7:
		g := e.groups[e.site.group(groupSelfEsteem)]
		members := slices.Sorted(maps.Keys(g.state.Members))
		for _, pid := range append(slices.Clone(g.state.Waitlist), members...) {
			if p := e.patients[pid]; p != nil {
				e.queue(g, groupOp{at: e.at(d, 7*60), kind: opLeave, patient: p, reason: domain.LeaveOther})
			}
		}
		spec := g.state.Spec
		spec.Status, spec.Slots = domain.NotRunning, nil
		e.queue(g, groupOp{at: e.at(d, 7*60+30), kind: opChange, spec: spec})
	}
	return nil
}

// changeCapacity changes a program's capacity by delta through the
// command path, and the bed board the simulator places people with.
func (e *engine) changeCapacity(ctx context.Context, s *site, base domain.ProgramID, delta int, d domain.Date, dayIndex int) error {
	pr := s.program(base)
	var spec domain.ProgramSpec
	for _, p := range s.catalog.Programs {
		if p.ID == pr.id {
			spec = p.ProgramSpec
		}
	}
	pr.capacity = max(1, pr.capacity+delta)
	spec.Capacity = pr.capacity
	if e.live != nil {
		if err := e.live.wait(ctx, true); err != nil {
			return err
		}
	}
	key := fmt.Sprintf("program/%s/%d", pr.id, dayIndex)
	res, err := e.svc.Program(ctx, e.meta(key), domain.ChangeProgram{Program: pr.id, Spec: spec, At: e.at(d, 7*60)})
	if refused, fatal := e.classify(err); fatal != nil {
		return fmt.Errorf("program %s: %w", pr.id, fatal)
	} else if !refused {
		e.count.recordResult(res)
	}
	return nil
}
