extension RandomAccessCollection where Index == Int {
    /// The index of the first element for which `isAfter` holds, in a collection where it holds for a suffix (a
    /// time-ordered log, points in address order): a binary search, `endIndex` when it holds for none.
    public func partitionPoint(_ isAfter: (Element) -> Bool) -> Int {
        var low = startIndex, high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if isAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
