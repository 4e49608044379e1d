//! V2 orders: the EIP-712 `Order` signed for the CTF or NegRisk exchange once
//! [`rules`](super::rules) accepted its numbers, and the exact JSON body of `POST /order`.
//!
//! Pure: the timestamp is an argument and the salt comes from the caller's client order id,
//! so a retry of the same intent with the same timestamp signs byte for byte the same order
//! (ECDSA signing here is deterministic, RFC 6979). Nothing here reads a clock or the network.

use alloy::primitives::{Address, B256, U256, address};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use super::rules::check;
pub use super::rules::{OrderArgs, OrderError, OrderType};
use crate::fill::TradeSide;

/// Polygon mainnet.
pub const POLYGON_CHAIN_ID: u64 = 137;

/// The order domain's name, the same for both exchanges.
pub const ORDER_DOMAIN_NAME: &str = "Polymarket CTF Exchange";

/// The order domain's version: V2 (V1-signed orders are refused since the cutover).
pub const ORDER_DOMAIN_VERSION: &str = "2";

/// `0x` + 64 zeros: `metadata` and `builder` when unused.
const ZERO_BYTES32: &str = "0x0000000000000000000000000000000000000000000000000000000000000000";

/// The EIP-712 struct. Private so the generated items need no docs.
mod typed {
    alloy::sol! {
        struct Order {
            uint256 salt;
            address maker;
            address signer;
            uint256 tokenId;
            uint256 makerAmount;
            uint256 takerAmount;
            uint8 side;
            uint8 signatureType;
            uint256 timestamp;
            bytes32 metadata;
            bytes32 builder;
        }
    }
}

/// The two V2 exchanges an order can be signed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchanges {
    /// The CTF exchange (binary markets).
    pub ctf: Address,
    /// The NegRisk exchange (multi-outcome events).
    pub neg_risk: Address,
}

impl Exchanges {
    /// The V2 exchanges on Polygon mainnet.
    pub const POLYGON_V2: Exchanges = Exchanges {
        ctf: address!("0xE111180000d2663C0091e4f400237545B87B996B"),
        neg_risk: address!("0xe2222d279d744050d28e00520010520000310F59"),
    };

    /// The exchange a market's orders are signed for.
    pub fn for_market(&self, neg_risk: bool) -> Address {
        if neg_risk { self.neg_risk } else { self.ctf }
    }
}

/// Whose funds an order uses, which sets `maker` and `signatureType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wallet {
    /// The signing key's own address (`signatureType` 0; maker = signer).
    Eoa,
    /// A Polymarket proxy wallet the key controls (`signatureType` 1).
    PolyProxy(Address),
    /// A Gnosis Safe the key owns (`signatureType` 2).
    GnosisSafe(Address),
}

impl Wallet {
    fn signature_type(self) -> u8 {
        match self {
            Wallet::Eoa => 0,
            Wallet::PolyProxy(_) => 1,
            Wallet::GnosisSafe(_) => 2,
        }
    }
}

/// The order as `POST /order` carries it (uint256 fields as decimal strings, except the salt,
/// which the venue reads as a JSON number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderWire {
    /// Derived from the client order id; below 2^53 so every JSON reader keeps it exact.
    pub salt: u64,
    /// The funding address (checksummed).
    pub maker: String,
    /// The signing address (checksummed).
    pub signer: String,
    /// The outcome token id.
    pub token_id: String,
    /// What the maker gives, in 1e-6 units (USDC for a buy, shares for a sell).
    pub maker_amount: String,
    /// What the maker receives, in 1e-6 units.
    pub taker_amount: String,
    /// `BUY` or `SELL` (signed as 0 or 1).
    pub side: TradeSide,
    /// Unix seconds for GTD, else `0`; sent but not signed.
    pub expiration: String,
    /// 0 EOA, 1 Polymarket proxy, 2 Gnosis Safe.
    pub signature_type: u8,
    /// Creation time, Unix milliseconds.
    pub timestamp: String,
    /// Zero bytes32.
    pub metadata: String,
    /// Zero bytes32 (no builder code).
    pub builder: String,
    /// `0x` + 65 bytes hex.
    pub signature: String,
}

/// A signed order ready to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOrder {
    /// The order with its signature.
    pub order: OrderWire,
    /// GTC, GTD, FOK or FAK.
    pub order_type: OrderType,
    /// Whether it may only rest.
    pub post_only: bool,
    /// The EIP-712 signing hash (the exchange's order hash).
    pub hash: B256,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostOrderBody<'a> {
    order: &'a OrderWire,
    owner: &'a str,
    order_type: OrderType,
    defer_exec: bool,
    post_only: bool,
}

impl SignedOrder {
    /// The exact JSON of `POST /order`: `{"order":{..},"owner":apiKey,"orderType",
    /// "deferExec":false,"postOnly"}`.
    ///
    /// # Errors
    /// [`OrderError::Signing`] if the body cannot be written (it always can).
    pub fn body(&self, owner: &str) -> Result<String, OrderError> {
        serde_json::to_string(&PostOrderBody {
            order: &self.order,
            owner,
            order_type: self.order_type,
            defer_exec: false,
            post_only: self.post_only,
        })
        .map_err(|error| OrderError::Signing(error.to_string()))
    }
}

/// The EIP-712 domain of V2 orders on `exchange`.
pub fn order_domain(chain_id: u64, exchange: Address) -> Eip712Domain {
    eip712_domain! {
        name: ORDER_DOMAIN_NAME,
        version: ORDER_DOMAIN_VERSION,
        chain_id: chain_id,
        verifying_contract: exchange,
    }
}

/// The type hash of the V2 `Order`.
pub fn order_type_hash() -> B256 {
    alloy::primitives::keccak256(typed::Order::eip712_encode_type().as_bytes())
}

/// The key that signs orders, the wallet it trades for, the chain and the exchanges.
#[derive(Debug, Clone)]
pub struct OrderSigner {
    signer: PrivateKeySigner,
    wallet: Wallet,
    chain_id: u64,
    exchanges: Exchanges,
}

impl OrderSigner {
    /// A signer for `wallet` on `chain_id` against the Polygon V2 exchanges.
    pub fn new(signer: PrivateKeySigner, wallet: Wallet, chain_id: u64) -> Self {
        Self {
            signer,
            wallet,
            chain_id,
            exchanges: Exchanges::POLYGON_V2,
        }
    }

    /// Other exchange addresses (a test chain, Amoy).
    pub fn with_exchanges(self, exchanges: Exchanges) -> Self {
        Self { exchanges, ..self }
    }

    /// The signing address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The funding address: the proxy or safe, or the signer itself.
    pub fn maker(&self) -> Address {
        match self.wallet {
            Wallet::Eoa => self.signer.address(),
            Wallet::PolyProxy(maker) | Wallet::GnosisSafe(maker) => maker,
        }
    }

    /// The domain orders of a NegRisk (or binary) market are signed in.
    pub fn domain(&self, neg_risk: bool) -> Eip712Domain {
        order_domain(self.chain_id, self.exchanges.for_market(neg_risk))
    }

    /// Validates, computes the amounts and signs.
    ///
    /// # Errors
    /// The [`OrderError`] of the first broken rule, or [`OrderError::Signing`].
    pub fn sign(&self, args: &OrderArgs) -> Result<SignedOrder, OrderError> {
        let numbers = check(args)?;
        let side: u8 = match args.side {
            TradeSide::Buy => 0,
            TradeSide::Sell => 1,
        };
        let order = typed::Order {
            salt: U256::from(numbers.salt),
            maker: self.maker(),
            signer: self.signer.address(),
            tokenId: numbers.token_id,
            makerAmount: U256::from(numbers.maker_amount),
            takerAmount: U256::from(numbers.taker_amount),
            side,
            signatureType: self.wallet.signature_type(),
            timestamp: U256::from(args.timestamp_ms),
            metadata: B256::ZERO,
            builder: B256::ZERO,
        };
        let hash = order.eip712_signing_hash(&self.domain(args.neg_risk));
        let signature = self
            .signer
            .sign_hash_sync(&hash)
            .map_err(|error| OrderError::Signing(error.to_string()))?;
        Ok(SignedOrder {
            order: OrderWire {
                salt: numbers.salt,
                maker: self.maker().to_checksum(None),
                signer: self.signer.address().to_checksum(None),
                token_id: numbers.token_id.to_string(),
                maker_amount: numbers.maker_amount.to_string(),
                taker_amount: numbers.taker_amount.to_string(),
                side: args.side,
                expiration: args.expiration.to_string(),
                signature_type: self.wallet.signature_type(),
                timestamp: args.timestamp_ms.to_string(),
                metadata: ZERO_BYTES32.to_string(),
                builder: ZERO_BYTES32.to_string(),
                signature: signature.to_string(),
            },
            order_type: args.order_type,
            post_only: args.post_only,
            hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use alloy::primitives::Signature;
    use rust_decimal::Decimal;

    use super::*;
    use crate::clob::rules::salt_of;

    const ANVIL_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const TOKEN: &str =
        "71321045679252212594626385532706912750332728571942532289631379312455583992563";
    const KEY: &str = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn signer() -> OrderSigner {
        OrderSigner::new(ANVIL_0.parse().unwrap(), Wallet::Eoa, POLYGON_CHAIN_ID)
    }

    fn args() -> OrderArgs {
        OrderArgs {
            token_id: TOKEN.into(),
            side: TradeSide::Buy,
            price: d("0.52"),
            size: d("10.5"),
            tick_size: d("0.01"),
            neg_risk: false,
            order_type: OrderType::Gtc,
            expiration: 0,
            post_only: false,
            client_order_id: KEY.into(),
            timestamp_ms: 1_764_979_200_000,
        }
    }

    #[test]
    fn the_order_type_hash_is_the_v2_one() {
        assert_eq!(
            order_type_hash(),
            B256::from_str("0xbb86318a2138f5fa8ae32fbe8e659f8fcf13cc6ae4014a707893055433818589")
                .unwrap()
        );
        assert_eq!(
            typed::Order::eip712_encode_type(),
            "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,\
             uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,\
             bytes32 metadata,bytes32 builder)"
        );
    }

    #[test]
    fn the_body_is_the_fact_sheets_shape() {
        let signed = signer().sign(&args()).unwrap();
        let maker = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let expected = format!(
            "{{\"order\":{{\"salt\":{salt},\"maker\":\"{maker}\",\"signer\":\"{maker}\",\
             \"tokenId\":\"{TOKEN}\",\"makerAmount\":\"5460000\",\"takerAmount\":\"10500000\",\
             \"side\":\"BUY\",\"expiration\":\"0\",\"signatureType\":0,\
             \"timestamp\":\"1764979200000\",\"metadata\":\"{ZERO_BYTES32}\",\
             \"builder\":\"{ZERO_BYTES32}\",\"signature\":\"{signature}\"}},\
             \"owner\":\"owner-uuid\",\"orderType\":\"GTC\",\"deferExec\":false,\
             \"postOnly\":false}}",
            salt = signed.order.salt,
            signature = signed.order.signature,
        );
        assert_eq!(signed.body("owner-uuid").unwrap(), expected);
        assert_eq!(signed.order.signature.len(), 132);
        assert_eq!(signed.order.salt, salt_of(KEY).unwrap());
    }

    #[test]
    fn the_signature_recovers_to_the_signer_in_the_markets_domain() {
        let signer = signer();
        for neg_risk in [false, true] {
            let signed = signer.sign(&OrderArgs { neg_risk, ..args() }).unwrap();
            let order = typed::Order {
                salt: U256::from(signed.order.salt),
                maker: signer.maker(),
                signer: signer.address(),
                tokenId: U256::from_str_radix(TOKEN, 10).unwrap(),
                makerAmount: U256::from(5_460_000u64),
                takerAmount: U256::from(10_500_000u64),
                side: 0,
                signatureType: 0,
                timestamp: U256::from(1_764_979_200_000u64),
                metadata: B256::ZERO,
                builder: B256::ZERO,
            };
            let exchange = if neg_risk {
                address!("0xe2222d279d744050d28e00520010520000310F59")
            } else {
                address!("0xE111180000d2663C0091e4f400237545B87B996B")
            };
            let hash = order.eip712_signing_hash(&order_domain(137, exchange));
            assert_eq!(hash, signed.hash);
            let signature = Signature::from_str(&signed.order.signature).unwrap();
            assert_eq!(
                signature.recover_address_from_prehash(&hash).unwrap(),
                signer.address()
            );
        }
        let binary = signer.sign(&args()).unwrap();
        let neg = signer
            .sign(&OrderArgs {
                neg_risk: true,
                ..args()
            })
            .unwrap();
        assert_ne!(binary.hash, neg.hash);
    }

    #[test]
    fn the_same_intent_signs_the_same_order_and_another_key_another_salt() {
        let signer = signer();
        let first = signer.sign(&args()).unwrap();
        assert_eq!(first, signer.sign(&args()).unwrap());
        assert_eq!(
            first.body("k").unwrap(),
            signer.sign(&args()).unwrap().body("k").unwrap()
        );
        let other = signer
            .sign(&OrderArgs {
                client_order_id: format!("0x{}", "f".repeat(64)),
                ..args()
            })
            .unwrap();
        assert_ne!(first.order.salt, other.order.salt);
        assert_eq!(other.order.salt, (1u64 << 53) - 1);
        assert_eq!(
            salt_of(KEY).unwrap(),
            0x0123_4567_89ab_cdef & ((1u64 << 53) - 1)
        );
    }

    #[test]
    fn a_proxy_wallet_is_the_maker_and_sets_the_signature_type() {
        let proxy = Address::repeat_byte(0x42);
        let signer = OrderSigner::new(
            ANVIL_0.parse().unwrap(),
            Wallet::PolyProxy(proxy),
            POLYGON_CHAIN_ID,
        );
        let signed = signer
            .sign(&OrderArgs {
                side: TradeSide::Sell,
                ..args()
            })
            .unwrap();
        assert_eq!(signed.order.maker, proxy.to_checksum(None));
        assert_eq!(
            signed.order.signer,
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert_eq!(signed.order.signature_type, 1);
        assert_eq!(signed.order.maker_amount, "10500000");
        assert_eq!(signed.order.taker_amount, "5460000");
    }

    #[test]
    fn the_edges_of_the_rules_are_accepted() {
        let signer = signer();
        let now_s = args().timestamp_ms / 1000;
        let accepted = [
            OrderArgs {
                price: d("0.01"),
                ..args()
            },
            OrderArgs {
                price: d("0.99"),
                size: d("0.01"),
                ..args()
            },
            OrderArgs {
                price: d("0.5000"),
                size: d("3.10"),
                ..args()
            },
            OrderArgs {
                price: d("0.0025"),
                tick_size: d("0.0025"),
                ..args()
            },
            OrderArgs {
                order_type: OrderType::Gtd,
                expiration: now_s + 61,
                post_only: true,
                ..args()
            },
            OrderArgs {
                order_type: OrderType::Fok,
                ..args()
            },
            OrderArgs {
                order_type: OrderType::Fak,
                side: TradeSide::Sell,
                ..args()
            },
        ];
        for ok in accepted {
            let signed = signer.sign(&ok).unwrap();
            let body: serde_json::Value = serde_json::from_str(&signed.body("k").unwrap()).unwrap();
            assert_eq!(body["orderType"], ok.order_type.as_str());
            assert_eq!(body["postOnly"], ok.post_only);
            assert_eq!(body["order"]["expiration"], ok.expiration.to_string());
        }
    }
}
