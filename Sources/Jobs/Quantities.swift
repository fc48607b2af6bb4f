/// A memory amount written as `20GiB`, `512MiB`, `1.5GB` or a plain number of bytes.
public struct ByteCount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) {
        self.bytes = bytes
    }

    private static let units: [(suffix: String, factor: Double)] = [
        ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024), ("TiB", 1024 * 1024 * 1024 * 1024),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]

    /// Parses `text`; nil when it is not a byte amount.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces
        var number = trimmed
        var factor = 1.0
        for unit in Self.units where trimmed.hasSuffix(unit.suffix) {
            number = String(trimmed.dropLast(unit.suffix.count)).trimmingSpaces
            factor = unit.factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(number), value.isFinite, value * factor < 9e18
        else { return nil }
        bytes = Int64((value * factor).rounded())
    }

    public var description: String { ByteCountText.describe(Int(bytes)) }

    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.bytes < rhs.bytes }
}

/// A duration written as `90s`, `10m`, `1h30m`, `2h` or a plain number of seconds.
public struct DurationSpec: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    /// Parses `text`; nil when it is not a duration.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces
        if let plain = Int(trimmed) {
            guard plain >= 0 else { return nil }
            seconds = plain
            return
        }
        var total = 0
        var digits = ""
        var sawUnit = false
        for character in trimmed {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let value = Int(digits), digits.count <= 9 else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            digits = ""
            sawUnit = true
        }
        guard sawUnit, digits.isEmpty else { return nil }
        seconds = total
    }

    public var description: String {
        var parts: [String] = []
        if seconds >= 3600 { parts.append("\(seconds / 3600)h") }
        if seconds % 3600 >= 60 { parts.append("\(seconds % 3600 / 60)m") }
        if seconds % 60 != 0 || parts.isEmpty { parts.append("\(seconds % 60)s") }
        return parts.joined()
    }

    public static func < (lhs: DurationSpec, rhs: DurationSpec) -> Bool { lhs.seconds < rhs.seconds }
}

/// Human-readable byte amounts for messages (`10.0 MiB`).
enum ByteCountText {
    static func describe(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes) bytes" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[index])"
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
