extension Double {
    /// This value in W (or Wh) as kW (or kWh). The devices, their profiles and the physics speak W and Wh; the market,
    /// the bus and the reports speak kW and kWh. The one place the factor between them is written.
    @inlinable public var inKilo: Double { self / 1000 }
}
