# Makes a build of the current tree without the pipeline stages of issue 4, for BASELINE comparisons
# (bench/build_without_stages.sh runs it): no classification (every attachment kept), no body fingerprint
# (deduplication by the raw hash, as before issue 4), no message record. Usage: without_stages.py ROOT
import sys
root = sys.argv[1]
def edit(p, a, b):
    p = root + '/' + p
    s = open(p).read()
    assert a in s, (p, a)
    s = s.replace(a, b, 1)
    open(p, 'w').write(s)
edit('Sources/TicketPipeline/TicketPipeline.swift',
     '''            guard let classifier = classifiers[delivery.queue.name] else {''',
     '''            delivery.keptAttachments = parsed.attachments
            planned.append(delivery)
            if !delivery.recipients.isEmpty { continue }
            guard let classifier = classifiers[delivery.queue.name] else {''')
edit('Sources/TicketPipeline/TicketPipeline.swift',
     '''contentSHA256: raw.withUnsafeBytes { BodyFingerprint.sha256(raw: $0, relief: raw.scanRelief) },''',
     '''contentSHA256: raw.sha256,''')
edit('Sources/TicketStoreSQLite/SQLiteTicketTransaction+Records.swift',
     '''    func recordMessage(''', '''    func recordMessage(_ record: NewMessageRecord) throws {}
    func recordMessageUnused(''')
