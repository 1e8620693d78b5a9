import os

import requests

requests.post("https://slack.com/api/chat.postMessage",
              headers={'Authorization': 'Bearer xoxb-FAKEFAKEFAKEFAKEFAKEFAKE'},
              json={"channel": os.environ["CHANNEL"], "text": "released"})
