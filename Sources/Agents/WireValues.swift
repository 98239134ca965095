public import Market
public import Messages

// The market core's types and the bus protocol's wire types are the same values on two floors that may not import
// each other; these are the one place they meet.

extension Side {
    public init(_ side: BidSide) { self = side == .buy ? .buy : .sell }
}

extension BidSide {
    public init(_ side: Side) { self = side == .buy ? .buy : .sell }
}

extension WireBid {
    public init(_ bid: Bid) { self.init(id: bid.id, side: BidSide(bid.side), price: bid.price, quantity: bid.quantity) }
}

extension ClearingType {
    public init(_ kind: ClearingKind) {
        switch kind {
        case .buyer: self = .buyer
        case .seller: self = .seller
        case .exact: self = .exact
        case .price: self = .price
        case .failure: self = .failure
        case .null: self = .null
        }
    }
}

extension ClearingKind {
    public init(_ type: ClearingType) {
        switch type {
        case .buyer: self = .buyer
        case .seller: self = .seller
        case .exact: self = .exact
        case .price: self = .price
        case .failure: self = .failure
        case .null: self = .null
        }
    }
}
