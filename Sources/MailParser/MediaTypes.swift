/// Media types for attachments that arrive without one (TNEF, uuencode).
enum MediaTypes {
    static let byExtension: [String: String] = [
        "pdf": "application/pdf", "txt": "text/plain", "log": "text/plain", "csv": "text/csv", "htm": "text/html",
        "html": "text/html", "xml": "application/xml", "json": "application/json", "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp", "tif": "image/tiff",
        "tiff": "image/tiff", "zip": "application/zip", "gz": "application/gzip", "7z": "application/x-7z-compressed",
        "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "eml": "message/rfc822", "msg": "application/vnd.ms-outlook", "ics": "text/calendar", "rtf": "application/rtf",
    ]

    static func guess(filename: String?) -> String {
        guard let filename, let dot = filename.lastIndex(of: ".") else { return "application/octet-stream" }
        return byExtension[filename[filename.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
