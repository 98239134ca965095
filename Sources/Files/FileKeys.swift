import Physics

/// One key a mapping of a user's file may hold: its name, a line saying what it sets, and how its value is read
/// into `Target`. A mapping's table of keys is the one place they are written: which keys are allowed, how each is
/// read and checked, and what the documentation says of it all come from it. A key the file leaves out keeps the
/// value `Target` starts with: its default.
package struct FileKey<Target>: Sendable {
    package let name: String
    package let doc: String
    /// Whether a mapping without it is refused.
    package private(set) var isRequired = false
    package let read: @Sendable (YAMLValue, inout Target) throws(FileError) -> Void

    package init(_ name: String, _ doc: String, read: @escaping @Sendable (YAMLValue, inout Target) throws(FileError) -> Void) {
        self.name = name
        self.doc = doc
        self.read = read
    }

    /// The same key, which a mapping must hold.
    package var required: Self {
        var key = self
        key.isRequired = true
        return key
    }

    /// A number, refused as `expected` says unless `isAllowed`.
    package static func number(_ name: String, _ field: any WritableKeyPath<Target, Double> & Sendable,
                               where isAllowed: @escaping @Sendable (Double) -> Bool = { _ in true }, expected: String = "a number",
                               _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = try value.double(where: isAllowed, expected: expected) }
    }

    /// A number where nil means none was given.
    package static func number(_ name: String, _ field: any WritableKeyPath<Target, Double?> & Sendable,
                               where isAllowed: @escaping @Sendable (Double) -> Bool = { _ in true }, expected: String = "a number",
                               _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = try value.double(where: isAllowed, expected: expected) }
    }

    /// A percentage in 0...100, kept as a fraction.
    package static func percentage(_ name: String, _ field: any WritableKeyPath<Target, Double> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in
            target[keyPath: field] = try value.double(where: (0...100).contains, expected: "a percentage in 0...100").fromPercent
        }
    }

    package static func integer(_ name: String, _ field: any WritableKeyPath<Target, Int> & Sendable, in range: ClosedRange<Int>,
                                _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = try value.int(in: range) }
    }

    /// A section read later, by its own table or reader: kept as it is written.
    package static func section(_ name: String, _ field: any WritableKeyPath<Target, YAMLValue?> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = value }
    }

    /// Text, never empty.
    package static func text(_ name: String, _ field: any WritableKeyPath<Target, String> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = try value.string() }
    }
}

extension YAMLValue {
    /// Reads a mapping by its table of keys, in the table's order, into `target`; a key outside the table is an
    /// error that lists the keys there are.
    package func read<Target>(_ keys: [FileKey<Target>], into target: inout Target) throws(FileError) {
        let fields = try mapping(allowed: keys.map(\.name))
        for key in keys {
            if let value = fields[key.name] {
                try key.read(value, &target)
            } else if key.isRequired {
                throw error("missing key '\(key.name)' (\(key.doc))")
            }
        }
    }

    /// The value of a mapping whose one key is `name` (`pcc: {meter: ...}`), to be read by its own reader; nil
    /// when the mapping is empty.
    package func sole(_ name: String, _ doc: String) throws(FileError) -> YAMLValue? {
        try read([FileKey<YAMLValue?>.section(name, \.self, doc)], from: nil)
    }

    /// Reads a mapping by its table of keys into a copy of `defaults`.
    package func read<Target>(_ keys: [FileKey<Target>], from defaults: Target) throws(FileError) -> Target {
        var target = defaults
        try read(keys, into: &target)
        return target
    }
}
