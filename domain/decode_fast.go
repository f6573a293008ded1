package domain

// Hand-written decoders of the frequent, flat event types (see decoder).
// Member names must match the struct tags in events.go; a test decodes every
// golden file with both these and encoding/json and compares the results.
// Event types with identical fields share one reader through a struct
// conversion, so each member list is written once.

// eventDecoder adapts a reader of one concrete event type to the registry.
func eventDecoder[E Event](read func([]byte) (E, error)) func([]byte) (Event, error) {
	return func(data []byte) (Event, error) {
		e, err := read(data)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
}

// readReferred reads a referral with its sealed personal data: the one
// nested member of the patient stream's events, read with a sub-decoder
// instead of encoding/json (which took a quarter of a replay's decoding time
// when every history opens with referrals).
func readReferred(data []byte) (Referred, error) {
	var e Referred
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "patient":
			e.Patient = PatientID(d.str())
		case "source":
			e.Source = decodeEnum(&d, referralSources)
		case "personal":
			d.sealedPersonal(&e.Personal)
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

// sealedPersonal reads a SealedPersonal object into *p as encoding/json
// does: null sets nil; an object fills *p, allocating it if nil, so a
// repeated member merges into the first.
func (d *decoder) sealedPersonal(p **SealedPersonal) {
	if d.null() {
		*p = nil
		return
	}
	if d.peek() != '{' {
		d.failAt("expected an object")
		return
	}
	start := d.pos
	d.skipNested()
	if d.err != nil {
		return
	}
	if *p == nil {
		*p = &SealedPersonal{}
	}
	sub := decoder{data: d.data[start:d.pos]}
	for sub.next() {
		switch string(sub.key) {
		case "keyId":
			(*p).KeyID = sub.str()
		case "nonce":
			(*p).Nonce = sub.base64()
		case "ciphertext":
			(*p).Ciphertext = sub.base64()
		default:
			sub.skip()
		}
	}
	if err := sub.end(); err != nil {
		d.fail(err)
	}
}

func readIntakeCompleted(data []byte) (IntakeCompleted, error) {
	var e IntakeCompleted
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "patient":
			e.Patient = PatientID(d.str())
		case "phq9":
			e.PHQ9 = d.integer()
		case "gad7":
			e.GAD7 = d.integer()
		case "recommendedLevel":
			e.RecommendedLevel = decodeEnum(&d, levels)
		case "primaryCare":
			e.PrimaryCare = d.boolean()
		case "individualTherapy":
			e.IndividualTherapy = d.boolean()
		case "ageYears":
			e.AgeYears = d.integer()
		case "scoresUnknown":
			e.ScoresUnknown = d.boolean()
		case "ageUnknown":
			e.AgeUnknown = d.boolean()
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

// readAdmitted also reads Readmitted, which has the same members.
func readAdmitted(data []byte) (Admitted, error) {
	var e Admitted
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "patient":
			e.Patient = PatientID(d.str())
		case "program":
			e.Program = ProgramID(d.str())
		case "level":
			e.Level = decodeEnum(&d, levels)
		case "sourceSetting":
			e.SourceSetting = d.str()
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readReadmitted(data []byte) (Readmitted, error) {
	e, err := readAdmitted(data)
	return Readmitted(e), err
}

func readMeasureRecorded(data []byte) (MeasureRecorded, error) {
	var e MeasureRecorded
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "patient":
			e.Patient = PatientID(d.str())
		case "instrument":
			e.Instrument = decodeEnum(&d, instruments)
		case "score":
			e.Score = d.integer()
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

// readSteppedDown also reads SteppedUp, which has the same members.
func readSteppedDown(data []byte) (SteppedDown, error) {
	var e SteppedDown
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "patient":
			e.Patient = PatientID(d.str())
		case "from":
			e.From = decodeEnum(&d, levels)
		case "to":
			e.To = decodeEnum(&d, levels)
		case "program":
			e.Program = ProgramID(d.str())
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readSteppedUp(data []byte) (SteppedUp, error) {
	e, err := readSteppedDown(data)
	return SteppedUp(e), err
}

func readDischarged(data []byte) (Discharged, error) {
	var e Discharged
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "patient":
			e.Patient = PatientID(d.str())
		case "reason":
			e.Reason = decodeEnum(&d, dischargeReasons)
		case "level":
			e.Level = decodeEnum(&d, levels)
		case "program":
			e.Program = ProgramID(d.str())
		case "alumniGroup":
			e.AlumniGroup = GroupID(d.str())
		case "stayUnknown":
			e.StayUnknown = d.boolean()
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

// readMemberJoined also reads WaitlistPromoted and ModuleCompleted, which
// have the same members.
func readMemberJoined(data []byte) (MemberJoined, error) {
	var e MemberJoined
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "group":
			e.Group = GroupID(d.str())
		case "patient":
			e.Patient = PatientID(d.str())
		case "module":
			e.Module = d.integer()
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readWaitlistPromoted(data []byte) (WaitlistPromoted, error) {
	e, err := readMemberJoined(data)
	return WaitlistPromoted(e), err
}

// readMemberWaitlisted also reads GroupCompleted, which has the same members.
func readMemberWaitlisted(data []byte) (MemberWaitlisted, error) {
	var e MemberWaitlisted
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "group":
			e.Group = GroupID(d.str())
		case "patient":
			e.Patient = PatientID(d.str())
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readGroupCompleted(data []byte) (GroupCompleted, error) {
	e, err := readMemberWaitlisted(data)
	return GroupCompleted(e), err
}

// readMemberLeft also reads WaitlistLeft, which has the same members.
func readMemberLeft(data []byte) (MemberLeft, error) {
	var e MemberLeft
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "group":
			e.Group = GroupID(d.str())
		case "patient":
			e.Patient = PatientID(d.str())
		case "reason":
			e.Reason = decodeEnum(&d, leaveReasons)
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readWaitlistLeft(data []byte) (WaitlistLeft, error) {
	e, err := readMemberLeft(data)
	return WaitlistLeft(e), err
}

func readSessionHeld(data []byte) (SessionHeld, error) {
	var e SessionHeld
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "group":
			e.Group = GroupID(d.str())
		case "session":
			e.Session = SessionID(d.str())
		case "date":
			e.Date = d.date()
		case "module":
			e.Module = d.integer()
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readAttendanceRecorded(data []byte) (AttendanceRecorded, error) {
	var e AttendanceRecorded
	d := decoder{data: data}
	for d.next() {
		switch string(d.key) {
		case "group":
			e.Group = GroupID(d.str())
		case "session":
			e.Session = SessionID(d.str())
		case "patient":
			e.Patient = PatientID(d.str())
		case "status":
			e.Status = decodeEnum(&d, attendanceStatuses)
		case "occurredAt":
			e.OccurredAt = d.timestamp()
		default:
			d.skip()
		}
	}
	return e, d.end()
}

func readModuleCompleted(data []byte) (ModuleCompleted, error) {
	e, err := readMemberJoined(data)
	return ModuleCompleted(e), err
}
