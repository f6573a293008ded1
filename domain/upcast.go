package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// errNoVersion is wrapped when metadata names a schema version the codec
// cannot bring to the current one.
var errNoVersion = errors.New("unsupported schema version")

// upcastKey names the upcaster that turns one event type's data from
// version From into version From+1.
type upcastKey struct {
	eventType string
	from      int
}

// upcasters is the one registry of schema migrations applied on read. Stored
// events are never rewritten; each upcaster lifts data one version, and
// upcastData chains them up to the current version.
var upcasters = map[upcastKey]func([]byte) ([]byte, error){
	{MeasureRecorded{}.EventType(), 1}: upcastMeasureRecordedV1,
}

// upcastData brings data of eventType from version from up to version to.
func upcastData(eventType string, from, to int, data []byte) ([]byte, error) {
	if from < 1 || from > to {
		return nil, fmt.Errorf("%w %d (this release reads up to %d)", errNoVersion, from, to)
	}
	for v := from; v < to; v++ {
		up, ok := upcasters[upcastKey{eventType, v}]
		if !ok {
			return nil, fmt.Errorf("%w %d: no upcaster to %d", errNoVersion, v, v+1)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("upcasting from version %d: %w", v, err)
		}
	}
	return data, nil
}

// measureRecordedV1 is the first shape of MeasureRecorded, as the pilot's
// import wrote it: the measure nested and identified by its LOINC code.
type measureRecordedV1 struct {
	PatientID string `json:"patientId"`
	Measure   struct {
		LOINC string `json:"loinc"`
		Value int    `json:"value"`
	} `json:"measure"`
	TakenAt time.Time `json:"takenAt"`
}

// upcastMeasureRecordedV1 turns v1 into v2's flat shape with the instrument
// named by its closed enum.
func upcastMeasureRecordedV1(data []byte) ([]byte, error) {
	var v1 measureRecordedV1
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	in, err := InstrumentByLOINC(v1.Measure.LOINC)
	if err != nil {
		return nil, err
	}
	return json.Marshal(MeasureRecorded{
		Patient:    PatientID(v1.PatientID),
		Instrument: in,
		Score:      v1.Measure.Value,
		OccurredAt: v1.TakenAt,
	})
}
