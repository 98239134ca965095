@testable import Modbus
import Testing

@Suite("Request decoding and response encoding")
struct PDUTests {
    @Test("A read of holding registers decodes with its address and count")
    func decodesRead() throws {
        #expect(try ModbusRequest.decode([3, 0x9C, 0x40, 0, 3][...]).get() == .read(.holdingRegisters, address: 40000, count: 3))
    }

    @Test("Counts outside the specification's limits answer exception 3", arguments: [0, 126] as [UInt16])
    func rejectsCounts(count: UInt16) {
        #expect(throws: ModbusException.illegalDataValue) {
            try ModbusRequest.decode([3, 0, 0, UInt8(count >> 8), UInt8(count & 0xFF)][...]).get()
        }
    }

    @Test("An unknown function code answers exception 1")
    func rejectsFunction() {
        #expect(throws: ModbusException.illegalFunction) { try ModbusRequest.decode([0x2B, 14, 1, 0][...]).get() }
    }

    @Test("FC16 with a byte count that disagrees with the quantity answers exception 3")
    func rejectsByteCount() {
        #expect(throws: ModbusException.illegalDataValue) { try ModbusRequest.decode([16, 0, 10, 0, 2, 3, 0, 1, 0, 2][...]).get() }
    }

    @Test("FC15 unpacks coils least significant bit first")
    func unpacksCoils() throws {
        let request = try ModbusRequest.decode([15, 0, 1, 0, 10, 2, 0b0000_0101, 0b10][...]).get()
        #expect(request == .write(.coils, address: 1, values: [1, 0, 1, 0, 0, 0, 0, 0, 0, 1], isSingle: false))
    }

    @Test("Responses encode as the specification lays them out")
    func encodes() {
        var bytes: [UInt8] = []
        ModbusResponse.values(function: 3, [0x5375, 0x6E53]).encode(into: &bytes)
        #expect(bytes == [3, 4, 0x53, 0x75, 0x6E, 0x53])
        bytes = []
        ModbusResponse.success(to: .write(.coils, address: 7, values: [1], isSingle: true)).encode(into: &bytes)
        #expect(bytes == [5, 0, 7, 0xFF, 0])
        bytes = []
        ModbusResponse.exception(function: 16, .serverDeviceFailure).encode(into: &bytes)
        #expect(bytes == [0x90, 4])
    }
}

@Suite("Register bank")
struct RegisterBankTests {
    func bank() throws -> RegisterBank {
        try RegisterBank(blocks: [
            RegisterBlock(table: .holdingRegisters, start: 0, values: [1, 2, 3]),
            RegisterBlock(table: .holdingRegisters, start: 40000, values: [10, 11, 12, 13]),
            RegisterBlock(table: .coils, start: 400, values: [0]),
        ])
    }

    @Test("A read inside one block answers its values; across a hole it is exception 2")
    func reads() throws {
        var bank = try bank()
        #expect(bank.respond(to: .read(.holdingRegisters, address: 40001, count: 3)) == .values(function: 3, [11, 12, 13]))
        #expect(bank.respond(to: .read(.holdingRegisters, address: 2, count: 2)) == .exception(function: 3, .illegalDataAddress))
        #expect(bank.respond(to: .read(.holdingRegisters, address: 40002, count: 3)) == .exception(function: 3, .illegalDataAddress))
        #expect(bank.respond(to: .read(.inputRegisters, address: 0, count: 1)) == .exception(function: 4, .illegalDataAddress))
    }

    @Test("Blocks that touch are served apart: a read across the two is exception 2, as a read across a hole")
    func touchingBlocks() throws {
        var bank = try RegisterBank(blocks: [RegisterBlock(table: .holdingRegisters, start: 0, values: [1, 2]),
                                             RegisterBlock(table: .holdingRegisters, start: 2, values: [3, 4])])
        #expect(bank.respond(to: .read(.holdingRegisters, address: 0, count: 2)) == .values(function: 3, [1, 2]))
        #expect(bank.respond(to: .read(.holdingRegisters, address: 2, count: 2)) == .values(function: 3, [3, 4]))
        #expect(bank.respond(to: .read(.holdingRegisters, address: 1, count: 2)) == .exception(function: 3, .illegalDataAddress))
    }

    @Test("Writes land and read back")
    func writes() throws {
        var bank = try bank()
        #expect(bank.respond(to: .write(.coils, address: 400, values: [1], isSingle: true)).exception == nil)
        #expect(bank.read(.coils, at: 400, count: 1) == .success([1]))
    }

    @Test("Overlapping blocks of one table are refused")
    func overlap() {
        #expect(throws: RegisterBankError.self) {
            try RegisterBank(blocks: [RegisterBlock(table: .holdingRegisters, start: 0, values: [0, 0]),
                                      RegisterBlock(table: .holdingRegisters, start: 1, values: [0])])
        }
    }
}

@Suite("Register codec")
struct RegisterCodecTests {
    @Test("Numbers round-trip through every type in both word orders",
          arguments: [RegisterType.uint16, .int16, .uint32, .int32, .uint64, .int64, .float32, .float64],
          [WordOrder.highFirst, .lowFirst])
    func roundTrip(type: RegisterType, order: WordOrder) {
        let value: Double = [RegisterType.uint16, .uint32, .uint64].contains(type) ? 1234 : -1234
        #expect(type.decode(type.encode(value, order: order), order: order) == value)
    }

    @Test("Integers saturate at their type's range and NaN encodes as the float NaN")
    func saturates() {
        #expect(RegisterType.int16.encode(40000) == [0x7FFF])
        #expect(RegisterType.uint16.encode(-5) == [0])
        #expect(RegisterType.float32.decode(RegisterType.float32.encode(.nan))!.isNaN)
    }

    @Test("Word order puts the high word first or last")
    func wordOrder() {
        #expect(RegisterType.uint32.encode(0x0001_0002, order: .highFirst) == [1, 2])
        #expect(RegisterType.uint32.encode(0x0001_0002, order: .lowFirst) == [2, 1])
    }

    @Test("Strings are ASCII, high byte first, NUL-padded")
    func strings() {
        let type = RegisterType.string(registers: 3)
        #expect(type.encode("SunS") == [0x5375, 0x6E53, 0])
        #expect(type.decodeText([0x5375, 0x6E53, 0]) == "SunS")
    }
}
