/// Sparrow's version, part of every journal key (a new version redoes cached results).
public enum SparrowVersion {
    public static let current = "0.1.0"
}
