import Foundation

/// A failing disk under one file, for a real `postdesk serve`: an LD_PRELOAD library, compiled here with `cc`,
/// that interposes `fsync`/`fdatasync` (and `write`/`pwrite`) on files whose path ends in a suffix (`-wal`).
/// Once armed (the arm file exists) the next fsync of such a file fails with EIO, and later ones succeed
/// again — as Linux reports a writeback error once, to the first fsync that comes along, whichever
/// descriptor it uses. With `failWrites`, armed writes fail with EIO instead.
///
/// Device-mapper (`error`/`flakey` targets) needs root and loop devices, which test machines here lack; this
/// layer sits between SQLite and the kernel instead, under an unmodified daemon binary.
struct FaultInjector {
    let library: String
    let armFile: String
    let suffix: String

    init(in scratch: ScratchDirectory, suffix: String = "-wal") throws {
        let source = scratch.file("fault-injector.c")
        library = scratch.file("fault-injector.so")
        armFile = scratch.file("fault-armed")
        self.suffix = suffix
        try Self.source.write(toFile: source, atomically: true, encoding: .utf8)
        let compiler = ProcessInfo.processInfo.environment["CC"] ?? "cc"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [compiler, "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw RigError.missingPeer("cc could not build the fault injector (status \(process.terminationStatus))")
        }
    }

    /// What fails while armed.
    enum Mode: String {
        /// The next fsync/fdatasync, once (the arm file is removed by it).
        case fsyncOnce = "fsync-once"
        /// Every fsync/fdatasync until disarmed: a directory that SQLite fsyncs too (ignoring the result) and
        /// that the daemon must find failing as well.
        case fsyncAlways = "fsync-always"
        /// Every write/pwrite until disarmed.
        case write
    }

    /// The environment for the daemon: the library preloaded, watching `suffix` and `armFile`.
    func environment(_ mode: Mode = .fsyncOnce) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = library
        environment["PD_FAULT_SUFFIX"] = suffix
        environment["PD_FAULT_ARM_FILE"] = armFile
        environment["PD_FAULT_MODE"] = mode.rawValue
        return environment
    }

    /// The next fsync (or write) of a matching file fails.
    func arm() {
        FileManager.default.createFile(atPath: armFile, contents: Data())
    }

    func disarm() {
        try? FileManager.default.removeItem(atPath: armFile)
    }

    /// How many faults the library injected (it appends a line per fault to `<arm file>.log`).
    var injectedFaults: Int {
        let log = (try? String(contentsOfFile: armFile + ".log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").count
    }

    private static let source = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <errno.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/types.h>
        #include <unistd.h>

        /* Does fd name a file whose path ends in $PD_FAULT_SUFFIX? */
        static int matches(int fd) {
            const char *suffix = getenv("PD_FAULT_SUFFIX");
            if (!suffix || !*suffix) return 0;
            char link[64], path[4096];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, path, sizeof path - 1);
            if (n <= 0) return 0;
            path[n] = 0;
            size_t length = strlen(suffix);
            return (size_t)n >= length && strcmp(path + n - length, suffix) == 0;
        }

        /* Armed while the arm file exists; a fault in "fsync-once" mode removes it, so the error is reported
           once, as the kernel reports a writeback error once. Each fault is logged to <arm file>.log. */
        static int take_fault(int fd, const char *mode, const char *call) {
            const char *wanted = getenv("PD_FAULT_MODE");
            const char *arm = getenv("PD_FAULT_ARM_FILE");
            if (!wanted || !arm || strcmp(wanted, mode) != 0) return 0;
            if (access(arm, F_OK) != 0 || !matches(fd)) return 0;
            if (strcmp(mode, "fsync-once") == 0) unlink(arm);
            char log[4200];
            snprintf(log, sizeof log, "%s.log", arm);
            int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (out >= 0) {
                char line[64];
                int length = snprintf(line, sizeof line, "%s fd %d\n", call, fd);
                ssize_t (*real_write)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
                real_write(out, line, (size_t)length);
                close(out);
            }
            return 1;
        }

        int fsync(int fd) {
            if (take_fault(fd, "fsync-once", "fsync") || take_fault(fd, "fsync-always", "fsync")) {
                errno = EIO;
                return -1;
            }
            int (*real)(int) = dlsym(RTLD_NEXT, "fsync");
            return real(fd);
        }

        int fdatasync(int fd) {
            if (take_fault(fd, "fsync-once", "fdatasync") || take_fault(fd, "fsync-always", "fdatasync")) {
                errno = EIO;
                return -1;
            }
            int (*real)(int) = dlsym(RTLD_NEXT, "fdatasync");
            return real(fd);
        }

        ssize_t write(int fd, const void *buffer, size_t count) {
            if (take_fault(fd, "write", "write")) { errno = EIO; return -1; }
            ssize_t (*real)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
            return real(fd, buffer, count);
        }

        ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
            if (take_fault(fd, "write", "pwrite")) { errno = EIO; return -1; }
            ssize_t (*real)(int, const void *, size_t, off_t) = dlsym(RTLD_NEXT, "pwrite");
            return real(fd, buffer, count, offset);
        }

        ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t offset) {
            if (take_fault(fd, "write", "pwrite64")) { errno = EIO; return -1; }
            ssize_t (*real)(int, const void *, size_t, off_t) = dlsym(RTLD_NEXT, "pwrite64");
            return real(fd, buffer, count, offset);
        }
        """#
}
