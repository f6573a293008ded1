package projections

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// TopicKind is what a live view is about: the census board, one group's
// roster or one patient's journey.
type TopicKind uint8

// Topic kinds.
const (
	// TopicCensus is the census board ("census").
	TopicCensus TopicKind = iota + 1
	// TopicGroup is one group's roster ("group:<id>").
	TopicGroup
	// TopicPatient is one patient's journey ("patient:<id>").
	TopicPatient
)

// CensusTopic is the name of the census board's topic.
const CensusTopic = "census"

// Topic prefixes of per-group and per-patient topics.
const (
	groupTopicPrefix   = "group:"
	patientTopicPrefix = "patient:"
)

// ErrUnknownTopic: the topic name is not census, group:<id> or patient:<id>.
var ErrUnknownTopic = errors.New("unknown topic")

// ErrNotFound: the topic names a group or patient the read models have never seen.
var ErrNotFound = errors.New("not found")

// Topic names a live view the web hub pushes to websocket subscribers. It is
// a comparable value so a batch can collect the topics it changed in a set
// without building strings per event.
type Topic struct {
	Kind TopicKind
	// ID is the group or patient ID; empty for the census.
	ID string
}

// GroupTopic is the topic of a group's roster.
func GroupTopic(id domain.GroupID) Topic { return Topic{Kind: TopicGroup, ID: string(id)} }

// PatientTopic is the topic of a patient's journey.
func PatientTopic(id domain.PatientID) Topic { return Topic{Kind: TopicPatient, ID: string(id)} }

// String returns the wire name: "census", "group:<id>" or "patient:<id>".
func (t Topic) String() string {
	switch t.Kind {
	case TopicCensus:
		return CensusTopic
	case TopicGroup:
		return groupTopicPrefix + t.ID
	case TopicPatient:
		return patientTopicPrefix + t.ID
	}
	return "invalid"
}

// ParseTopic reads a topic name as a websocket client sends it. IDs are
// validated with the domain's rules so a hostile name never reaches a map
// lookup or a log line unchecked.
func ParseTopic(s string) (Topic, error) {
	if s == CensusTopic {
		return Topic{Kind: TopicCensus}, nil
	}
	if rest, ok := strings.CutPrefix(s, groupTopicPrefix); ok {
		id, err := domain.ParseGroupID(rest)
		if err != nil {
			return Topic{}, fmt.Errorf("%w: %w", ErrUnknownTopic, err)
		}
		return GroupTopic(id), nil
	}
	if rest, ok := strings.CutPrefix(s, patientTopicPrefix); ok {
		id, err := domain.ParsePatientID(rest)
		if err != nil {
			return Topic{}, fmt.Errorf("%w: %w", ErrUnknownTopic, err)
		}
		return PatientTopic(id), nil
	}
	return Topic{}, fmt.Errorf("%w: want census, group:<id> or patient:<id>", ErrUnknownTopic)
}

// TopicSet collects the topics a batch of events changed. A nil set ignores
// additions, so folds that nobody listens to pay nothing for it.
type TopicSet map[Topic]struct{}

// add records a changed topic.
func (s TopicSet) add(t Topic) {
	if s != nil {
		s[t] = struct{}{}
	}
}

// Names returns the wire names of the topics, sorted, so notifications are
// deterministic.
func (s TopicSet) Names() []string {
	names := make([]string, 0, len(s))
	for t := range s {
		names = append(names, t.String())
	}
	slices.Sort(names)
	return names
}

// ClinicalStreams selects the clinical record in $all: patients, groups and
// programs. Audit trails and user accounts share the log but change no read
// model or outcome, so folds subscribe and replay through this filter.
func ClinicalStreams() *eventstore.Filter {
	return &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{
		domain.PatientStreamPrefix, domain.GroupStreamPrefix, domain.ProgramStreamPrefix,
	}}
}
